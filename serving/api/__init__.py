"""The gateway's HTTP routes, one module (APIRouter) per resource."""

from serving.api import classify, feedback, health, routing, tfserving

routers = [classify.router, feedback.router, tfserving.router, routing.router, health.router]

__all__ = ["routers"]
