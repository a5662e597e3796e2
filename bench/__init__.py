"""AURA's benchmarks, in one place: the code here, what it measured in bench/results/.

Each runs from `aura bench NAME` (aura/cli.py) and writes the JSON its issue names: pipeline,
chaos, fuzz, ledger, fingerprint, detection and calibration (the detection grid lives in
`bench.grid`), and `python -m bench.flamby` for FLamby's FedAvg baseline.
"""
