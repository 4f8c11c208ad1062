"""Feature maps in the graph view (tinygraph/teaching/maps.py): an image stack (C, H, W) drawn as heat maps."""

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.teaching import maps

WHITE = "#ffffff"


class Image(tg.Node):
    """y = x as (C, H, W): a vector of C·H·W numbers as an image stack per sample (a node of this test's own)."""

    formula, derivative = "y = x as (C, H, W)", "∂y/∂x = 1 (a reshape)"
    gradients = {"x": "∂E/∂y reshaped"}

    def __init__(self, x, image, name=None):
        self.image = tuple(image)
        super().__init__(x, name=name)

    def infer_shape(self, x):
        if x != (math.prod(self.image),):
            raise self.error(f"x has shape {x} but the image {self.image} needs {math.prod(self.image)} numbers")
        return self.image

    def forward(self, x):
        return x.reshape(x.shape[:-1] + self.image)

    def backward(self, grad_out):
        return (grad_out.reshape(grad_out.shape[: grad_out.ndim - 3] + (-1,)),)


def image_graph(stack_shape, feed_x=None, make=tg.Reshape):
    """x (n,) → img (C, H, W) → h = tanh → Sum E; forwarded and backpropagated with ``feed_x`` if given."""
    x = tg.Input("x", shape=(math.prod(stack_shape),))
    image = make(x, stack_shape, name="img")
    graph = tg.Graph(tg.Sum(tg.Tanh(image, name="h"), name="E"))
    if feed_x is not None:
        graph.forward({"x": np.asarray(feed_x, dtype=float)})
        graph.backward()
    return graph


def label_of(source, graph, node):
    """The node's label in the DOT source, parsed (HTML-like labels are XML)."""
    node_id = f"n{graph.nodes.index(node)}"
    line = next(line for line in source.splitlines() if line.lstrip().startswith(f"{node_id} [label=<"))
    return ET.fromstring(re.match(r"\s*\w+ \[label=<(.*)>", line).group(1))


def maps_of(source, graph, node):
    """Each map drawn in the node, as its rows of pixel colours (a cell without a colour is white)."""
    tables = [t for t in label_of(source, graph, node).iter("TABLE") if t.get("BGCOLOR") == "white"]
    return [[[td.get("BGCOLOR", WHITE) for td in tr.findall("TD")] for tr in t.findall("TR")] for t in tables]


def darkness(colour):
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 255 * 3 - (r + g + b)


def darker_with_larger_values(values, colours):
    """Of the pixels of each sign, does a larger |value| never get a lighter colour?"""
    for sign in (values > 0, values < 0):
        order = np.argsort(np.abs(values[sign]))
        dark = [darkness(c) for c in colours[sign][order]]
        if not all(a <= b for a, b in zip(dark, dark[1:])):
            return False
    return True


# -- the colour scale -----------------------------------------------------------
def test_white_is_exactly_zero_and_the_largest_value_the_darkest():
    got = maps.colours([[[0.0, 1e-3, 0.5, 1.0], [-1.0, -0.5, np.nan, np.inf]]]).tolist()
    p, n = maps.POSITIVE_SCALE, maps.NEGATIVE_SCALE
    # |v| / largest |v| in 8 steps, up to the step it reaches: 0.001 → 1, 0.5 → 4, 1 → 8
    assert got == [[[WHITE, p[0], p[3], p[7]], [n[7], n[3], maps.UNKNOWN, maps.UNKNOWN]]]
    assert maps.colours(np.zeros((1, 2, 2))).tolist() == [[[WHITE] * 2] * 2]
    assert maps.colours([[[2.0, 4.0]]], top=8.0).tolist() == [[[p[1], p[3]]]]


def test_each_ramp_gets_darker_step_by_step():
    for ramp in (maps.POSITIVE_SCALE, maps.NEGATIVE_SCALE):
        assert len(ramp) == maps.LEVELS == len(set(ramp))
        assert all(darkness(a) < darkness(b) for a, b in zip(ramp, ramp[1:]))
        assert darkness(WHITE) < darkness(ramp[0])
    assert maps.POSITIVE_SCALE[-1] != maps.NEGATIVE_SCALE[-1]


# -- the graph view -------------------------------------------------------------
@pytest.mark.parametrize("make", [tg.Reshape, Image], ids=["Reshape", "a node of ones own"])
def test_a_node_of_images_shows_one_cell_per_pixel_of_the_first_sample(make):
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(3, 2 * 3 * 4))
    batch[0, :5] = 0.0  # exact zeros: white
    batch[0, 7] = 9.0  # the largest |value| of sample 0: the darkest blue
    batch[1] = -50.0  # (another sample: not drawn, and not on the scale)
    graph = image_graph((2, 3, 4), batch, make)  # (known by its shape alone, whatever its class)
    source = tg.to_dot(graph)
    drawn = maps_of(source, graph, graph["img"])
    assert [(len(m), {len(r) for r in m}) for m in drawn] == [(3, {4}), (3, {4})]  # 2 maps of 3 rows of 4 pixels
    pixels = batch[0].reshape(2, 3, 4)
    colours = np.array(drawn)
    assert (colours == WHITE).tolist() == (pixels == 0).tolist()
    assert colours[0, 1, 3] == maps.POSITIVE_SCALE[-1]  # the max pixel (value 9): the top colour
    assert set(colours[pixels > 0]) <= set(maps.POSITIVE_SCALE)
    assert set(colours[pixels < 0]) <= set(maps.NEGATIVE_SCALE)
    assert darker_with_larger_values(pixels, colours)  # on one scale for both maps
    text = " ".join(label_of(source, graph, graph["img"]).itertext())
    assert f"{make.__name__} · (2, 3, 4) · batch of 3" in text and "value = shape (3, 2, 3, 4): mean" in text
    assert f"sample 0: min {pixels.min():.3g}, max 9" in text
    assert maps_of(source, graph, graph["x"]) == []  # a vector: no maps
    assert "maps: the channels of sample 0" in source  # the legend says what the colours mean


def test_an_image_input_of_one_sample_is_drawn_as_its_maps():
    x = tg.Input("x", shape=(1, 2, 2))
    graph = tg.Graph(tg.Sum(x, name="E"))
    graph.forward({"x": np.array([[[1.0, 0.0], [-0.5, 2.0]]])})  # one sample, no batch axis
    drawn = maps_of(tg.to_dot(graph), graph, x)
    n, p = maps.NEGATIVE_SCALE, maps.POSITIVE_SCALE
    assert drawn == [[[p[3], WHITE], [n[1], p[7]]]]  # 1/2 → step 4, 0.5/2 → step 2, 2 → 8


def test_no_maps_before_a_forward_pass_nor_without_values():
    graph = image_graph((2, 3, 3))
    source = tg.to_dot(graph)
    assert maps_of(source, graph, graph["img"]) == []
    assert "Reshape · (2, 3, 3)" in source and "maps:" not in source  # the shape only
    graph = image_graph((2, 3, 3), np.ones(18))
    source = tg.to_dot(graph, values=False)
    assert maps_of(source, graph, graph["img"]) == [] and "maps:" not in source
    assert len(maps_of(tg.to_dot(graph), graph, graph["img"])) == 2


def test_more_than_16_channels_draws_no_maps():
    graph = image_graph((17, 2, 2), np.ones(68))
    source = tg.to_dot(graph)
    assert maps_of(source, graph, graph["img"]) == []
    assert "17 maps: too many to draw (at most 16)" in source
    sixteen = image_graph((16, 2, 2), np.ones(64))
    assert len(maps_of(tg.to_dot(sixteen), sixteen, sixteen["img"])) == 16


def test_large_maps_are_averaged_in_blocks_to_keep_the_drawing_small():
    rng = np.random.default_rng(1)
    blocks = rng.normal(size=(16, 12, 12))
    stack = blocks.repeat(2, axis=1).repeat(2, axis=2)  # 16 maps of 24×24, constant on each 2×2 block
    graph = image_graph((16, 24, 24), stack.ravel())
    source = tg.to_dot(graph)
    drawn = np.array(maps_of(source, graph, graph["img"]))
    assert drawn.shape == (16, 12, 12)  # 2304 cells (24×24 each would be 9216)
    assert darker_with_larger_values(blocks, drawn)  # the block averages, on one scale
    top = np.unravel_index(np.argmax(np.abs(blocks)), blocks.shape)
    assert drawn[top] == (maps.POSITIVE_SCALE if blocks[top] > 0 else maps.NEGATIVE_SCALE)[-1]
    assert "averaged in 2×2 blocks" in source
    assert len(source) < 400_000  # (Graphviz lays it out in a fraction of a second)
    label = label_of(source, graph, graph["img"])
    sizes = {(t.get("WIDTH"), t.get("HEIGHT")) for t in label.iter("TABLE") if t.get("BGCOLOR") == "white"}
    assert sizes == {("50", "50")}  # 12 pixels of 4 points and the frame: about as large as a small map


@pytest.mark.graphviz
def test_the_maps_render_to_png_and_svg(tmp_path):
    stack = np.zeros((3, 4, 4))
    stack[0, 1, 2], stack[2, 3, 3] = 5.0, -5.0
    graph = image_graph((3, 4, 4), stack.ravel())
    tg.render(graph, tmp_path / "maps", format="png")
    assert (tmp_path / "maps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tg.render(graph).pipe(format="svg").decode("utf-8")
    top, bottom = maps.POSITIVE_SCALE[-1], maps.NEGATIVE_SCALE[-1]
    # the largest pixel of each sign in img and in h (the two image nodes), and the darkest step of their
    # two colour bars: each colour four times (blank maps would leave two)
    assert svg.count(f'fill="{top}"') == 4 and svg.count(f'fill="{bottom}"') == 4


@pytest.mark.graphviz
def test_the_stepper_draws_the_maps_in_one_size_from_the_nodes_forward_step_on():
    from tinygraph.teaching import stepper

    graph = image_graph((2, 3, 3))
    tr = tg.trace(graph, {"x": np.linspace(-1, 1, 18)})
    dots = stepper.drawings(tr, "graph")
    statement = re.compile(rf"^\tn{graph.nodes.index(graph['img'])} \[(.*)\]$", re.M)
    sizes = {re.findall(r"\b(width|height)=([\d.]+)", statement.search(d.source).group(1)).__str__() for d in dots}
    assert len(sizes) == 1 and "width" in sizes.pop()  # the image node: one fixed size in every step
    shown = [len(maps_of(d.source, graph, graph["img"])) for d in dots]
    first = next(i for i, step in enumerate(tr.steps) if graph["img"] in step.highlight)
    assert shown == [0] * first + [2] * (len(dots) - first)
    assert all("maps: the channels of sample 0" in d.source for d in dots)  # one legend for every step
    svgs = [stepper._svg(d) for d in dots]
    assert len({re.search(r'height="([\d.]+)pt"', svg).group(1) for svg in svgs}) == 1


def test_a_convolutional_network_on_digits_shows_its_feature_maps():
    rng = np.random.default_rng(0)
    x = tg.Input("x", shape=(1, 8, 8))
    conv = tg.Conv2D(x, tg.Parameter(rng.normal(0, 0.5, (8, 1, 3, 3)), name="K"), name="conv")
    pool = tg.MaxPool2D(tg.ReLU(conv, name="h"), 2, name="pool")
    flat = tg.Flatten(pool, name="flat")
    out = tg.dense(flat, 10, activation=None, seed=0, name="out")
    graph = tg.Graph(tg.SoftmaxCrossEntropy(out, tg.Input("t", shape=(10,)), name="E"))
    images = np.zeros((4, 1, 8, 8))  # a digits-sized batch: sample 0 a ring of ink, a 0
    images[0, 0, 1:7, 2:6], images[0, 0, 2:6, 3:5] = 0.8, 0.0
    images[1:] = rng.uniform(size=(3, 1, 8, 8))
    graph.forward({"x": images, "t": np.eye(10)[[0, 1, 2, 3]]})
    source = tg.to_dot(graph)
    shapes = {name: np.array(maps_of(source, graph, graph[name])).shape for name in ("x", "conv", "h", "pool")}
    assert shapes == {"x": (1, 8, 8), "conv": (8, 6, 6), "h": (8, 6, 6), "pool": (8, 3, 3)}
    assert maps_of(source, graph, flat) == []
    digit = np.array(maps_of(source, graph, graph["x"]))[0]
    assert (digit == WHITE).tolist() == (images[0, 0] == 0).tolist()  # the digit's ink, on white
    assert set(digit[images[0, 0] > 0]) == {maps.POSITIVE_SCALE[-1]}
