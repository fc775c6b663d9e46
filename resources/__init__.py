"""Static resources (theme, icons) and the demo-data generator."""
