"""help() shows docstrings, never a section-divider comment that happens to sit above a method."""

import inspect
import pydoc

from nndl import nn


def test_no_module_method_shows_a_comment_as_its_documentation():
    shown = {name: pydoc.getdoc(value) for name, value in vars(nn.Module).items() if inspect.isfunction(value)}
    assert [name for name, doc in shown.items() if doc.lstrip().startswith("#")] == []
    assert shown["forward"].startswith("Compute the output from ``inputs`` and keep what ``backward`` needs")
    assert shown["backward"].startswith("Return ∂L/∂input from ``dout`` = ∂L/∂output")
    assert "-----" not in pydoc.render_doc(nn.Module.forward, renderer=pydoc.plaintext)
