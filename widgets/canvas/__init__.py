"""The box canvas: an image with boxes you draw, select, move, resize, nudge and delete."""
from widgets.canvas.render import RenderContext, render_box, render_boxes_batched
from widgets.canvas.view import BoxCanvas

__all__ = ["BoxCanvas", "RenderContext", "render_box", "render_boxes_batched"]
