"""The gateway's HTTP routes, one module (APIRouter) per resource."""

from serving.api import classify, feedback, health, reports, routing, tfserving

routers = [classify.router, feedback.router, tfserving.router, routing.router, health.router, reports.router]

__all__ = ["routers"]
