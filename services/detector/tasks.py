"""Celery entry point of the detector stage (queue `detect`): shared/pipeline.py defines the stage."""

from shared.pipeline import Queue
from shared.stage import register_stage

detect_task = register_stage(Queue.DETECT)
