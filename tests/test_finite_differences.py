"""gradcheck and check_node: backprop against central differences."""

import numpy as np
import pytest

import tinygraph as tg


def test_gradcheck_report_reads_well():
    net = tg.mlp([2, 3, 1], seed=0)
    report = tg.gradcheck(net.graph, {"x": [0.1, 0.2], "t": [1.0]})
    assert report.passed and bool(report)
    assert [r.name for r in report.rows] == ["W1", "b1", "W2", "b2"]
    text = str(report)
    assert "W1" in text and "passed" in text
    assert report["W1"].max_abs_error < 1e-8
    # gradcheck leaves the parameters exactly as they were
    before = [p.value.copy() for p in net.parameters()]
    tg.gradcheck(net.graph, {"x": [0.1, 0.2], "t": [1.0]})
    assert all(np.array_equal(p.value, v) for p, v in zip(net.parameters(), before))


def test_gradcheck_refuses_to_pass_without_checking_anything():
    net = tg.mlp([2, 2, 1], seed=0)
    feed = {"x": [0.1, 0.2], "t": [1.0]}
    assert [r.name for r in tg.gradcheck(net.graph, feed, only="W1").rows] == ["W1"]
    with pytest.raises(tg.GraphError, match=r"not nodes of this graph"):
        tg.gradcheck(net.graph, feed, only=["W9"])
    g = tg.Graph(tg.Sum(tg.Tanh(tg.Input("x"))))
    report = tg.gradcheck(g, {"x": [0.1, 0.2]})  # no parameters, inputs=False
    assert report.rows == [] and not report.passed and "checked nothing" in str(report)
