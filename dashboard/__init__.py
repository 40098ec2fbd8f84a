"""Streamlit dashboard on the gold models: `gst dashboard` / `make dashboard`."""
