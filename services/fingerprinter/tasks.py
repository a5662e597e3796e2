"""Celery entry point of the fingerprinter stage (queue `fingerprint`): shared/pipeline.py defines the stage."""

from shared.pipeline import Queue
from shared.stage import register_stage

fingerprint_task = register_stage(Queue.FINGERPRINT)
