"""Model summaries by shape propagation (``summary``) and the layer-size calculator (``explain``)."""

from nndl.summary.collect import LayerRow, SummaryError
from nndl.summary.explain import EXPLAINERS, Explanation, explain_conv, explain_deconv, explain_linear, explain_pool
from nndl.summary.model_summary import Summary, summary

__all__ = ["EXPLAINERS", "Explanation", "LayerRow", "Summary", "SummaryError", "explain_conv", "explain_deconv",
           "explain_linear", "explain_pool", "summary"]
