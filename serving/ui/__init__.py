"""The review console at /ui: server-rendered pages (Jinja2) for the people who correct the model.

Every asset (templates, the one script, the style sheet) ships inside this package; nothing is
fetched from another origin. Pages read without the API key (like the gateway's other reads);
every write (classifying a document, a correction, a queue claim) goes through the page's script
with the key the reviewer typed into the key field, as the `X-API-Key` header.
"""

from serving.ui import documents, models, pages, queue

routers = [pages.router, documents.router, queue.router, models.router]

__all__ = ["routers"]
