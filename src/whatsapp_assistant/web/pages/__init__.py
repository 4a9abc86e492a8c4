"""Server-rendered pages (Jinja2), signed in with the session cookie."""
