"Shared pytest setup: offline hub, markers, the repository root."
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')          # before anything imports transformers
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

def pytest_configure(config):
    for m, d in (('slow', 'takes more than ~30 s'), ('gpu', 'needs a CUDA device (skipped without one)'),
                 ('browser', 'drives JupyterLab in Chromium')):
        config.addinivalue_line('markers', f'{m}: {d}')

def pytest_collection_modifyitems(config, items):
    import torch
    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason='no CUDA device')
        for it in items:
            if 'gpu' in it.keywords: it.add_marker(skip)

@pytest.fixture(scope='session')
def root(): return ROOT

def parameters_cell(nb: dict) -> dict | None:
    "The papermill `parameters`-tagged cell of a notebook's JSON, or None."
    return next((c for c in nb['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])), None)

@pytest.fixture(scope='session')
def default_pipe():
    from dragon_nb import load_pipeline
    return load_pipeline()

class CodePayload:
    "Unpickling this calls open(path, 'w'): a harmless stand-in for code a crafted file would run (the marker file shows it ran)."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (open, (self.path, 'w'))
