"""Static resources shipped with Kestrel (the theme stylesheet). No code here imports the app."""
