"""The team's web service: the registry, plans and verifications over HTTP, with users.

:func:`~opensirt.api.app.create_app` builds the FastAPI application from
:class:`~opensirt.api.settings.Settings`; ``opensirt serve`` runs it with uvicorn. Every
request but the login needs a session cookie; every unsafe method also needs the CSRF token
(double submit); every response carries the security headers of
:mod:`opensirt.api.security`.
"""
