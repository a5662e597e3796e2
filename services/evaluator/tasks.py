"""Celery entry point of the evaluator stage (queue `evaluate`)."""

from services.evaluator.service import evaluate
from shared.celery_app import Queue
from shared.stage import stage_task

# Scoring ~100 golden rows takes milliseconds; 60 s only trips on a hung database.
evaluate_task = stage_task(Queue.EVALUATE, soft_time_limit=60, time_limit=90, durable=False)(evaluate)
