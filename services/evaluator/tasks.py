"""Celery entry point of the evaluator stage (queue `evaluate`): shared/pipeline.py defines the stage."""

from shared.pipeline import Queue
from shared.stage import register_stage

evaluate_task = register_stage(Queue.EVALUATE)
