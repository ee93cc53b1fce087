"""SsimEvaluator: metrics, classical baselines, blessing rules, report and the TFX component."""
