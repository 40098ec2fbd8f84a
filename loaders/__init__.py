"""Game & Stream Trends: dlt loaders, the `gst` CLI and the local API simulator."""

__version__ = "0.1.0"
