"""Celery entry point of the detector stage (queue `detect`)."""

from services.detector.service import detect
from shared.celery_app import Queue
from shared.stage import stage_task

# Features take milliseconds; an Isolation Forest refit over 1,000 rows well under a second.
detect_task = stage_task(Queue.DETECT, soft_time_limit=60, time_limit=90, durable=False)(detect)
