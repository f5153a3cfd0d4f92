"""engage: follow the public conversation of the people you want to meet, and ask
to connect only once a real two-way dialogue exists."""

__version__ = "0.1.0"
