"""A/B experiments: definitions, evaluation in ClickHouse, verdicts and their history."""

from spanhouse.collector.experiments.definition import Definition, define, from_document
from spanhouse.collector.experiments.evaluation import Evaluation, evaluate
from spanhouse.collector.experiments.verdict import Verdict

__all__ = ["Definition", "Evaluation", "Verdict", "define", "evaluate", "from_document"]
