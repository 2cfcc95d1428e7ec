"A 2-process CPU run (torchrun, gloo) builds the same demonstrations and set-reward values as 1 process (issue 4)."
import json, subprocess, sys
from pathlib import Path
import pytest

def _run(root, args):
    r = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]

@pytest.mark.parametrize('reward', ['dsfad-vae-upbeat', 'psfad-vae-ambient'])
def test_two_processes_match_one(root, tmp_path, reward):
    script = str(root/'tests'/'dist_run.py')
    _run(root, [sys.executable, script, reward, str(tmp_path/'one')])
    _run(root, [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', script, reward, str(tmp_path/'two')])
    a = json.loads((tmp_path/'one'/'metrics.jsonl').read_text().splitlines()[0])
    b = json.loads((tmp_path/'two'/'metrics.jsonl').read_text().splitlines()[0])
    assert (a['processes'], b['processes']) == (1, 2)
    assert a['pos'] == b['pos'] and a['neg'] == b['neg'] and a['n_demos'] == b['n_demos']
    for k in ('set_value', 'set_value_pos', 'reward_mean', 'loss'):
        if k in a: assert a[k] == pytest.approx(b[k], rel=1e-6), k
