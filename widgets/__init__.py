"""Qt views. They show plain data and emit intents; no torch, no sqlite, no store."""
