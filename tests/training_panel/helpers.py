"""Helpers shared by the Training panel tests: tiny settings, waiting on the loop."""

from __future__ import annotations

import asyncio

# Small, fast settings for ssdlite320 (the fastest template at tiny sizes on CPU).
TEMPLATE = "ssdlite320_mobilenet_v3_large"
TINY = {"epochs": 2, "time_budget": 0, "batch_size": 2, "min_size": 64, "max_size": 96, "pretrained": "none",
        "workers": 0, "warmup_iters": 2, "val_fraction": 0.25}


def set_values(panel, values: dict) -> None:
    panel.select_template(TEMPLATE)
    for key, value in values.items():
        panel.form.set_value(key, value)


def wait_signal(loop, signal, timeout: float, start=None):
    """Run the loop until ``signal`` fires (calling ``start`` inside it first)."""
    future = loop.create_future()

    def slot(*args):
        if not future.done():
            future.set_result(args)

    signal.connect(slot)
    try:
        if start is not None:
            loop.call_soon(start)
        return loop.run_until_complete(asyncio.wait_for(future, timeout))
    finally:
        signal.disconnect(slot)


def wait_until(loop, predicate, timeout: float, start=None):
    async def poll():
        while not predicate():
            await asyncio.sleep(0.02)

    if start is not None:
        loop.call_soon(start)
    loop.run_until_complete(asyncio.wait_for(poll(), timeout))
