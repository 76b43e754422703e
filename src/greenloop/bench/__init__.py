"""Benchmark harness: what greenloop adds over the bare model (HumanEval), one-shot vs agent."""
