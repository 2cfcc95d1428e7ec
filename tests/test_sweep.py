"The sweep runner executes the papermill template per run, skips finished runs and reports failed ones (issue 6)."
import json
from dragon_nb.sweep import run_sweep

def test_sweep_skips_done_and_reports_failures(root, tmp_path, monkeypatch):
    spec = dict(name='t', defaults=dict(rounds=1, prompts_per_round=2, demo_steps=2, eval_prompts=4, eval_steps=2),
                runs=[dict(reward='psfad-vae-mellow'), dict(id='broken', reward='psfad-vae-mellow', beta=-1)])
    monkeypatch.chdir(tmp_path)                 # a relative --out must land here, not under the template's folder
    res = run_sweep(spec, 'sw', parallel=1, progress=False)
    assert res['runs']['psfad-vae-mellow']['status'] == 'done' and res['failed'] == ['broken']
    assert (tmp_path/'sw'/'psfad-vae-mellow'/'eval.json').exists()
    assert 'beta must be > 0' in res['runs']['broken']['error']
    again = run_sweep(spec, tmp_path/'sw', parallel=1, progress=False)
    assert again['runs']['psfad-vae-mellow']['status'] == 'done (skipped)'
    assert again['runs']['psfad-vae-mellow']['seconds'] == res['runs']['psfad-vae-mellow']['seconds']   # kept, not lost
    assert again['runs']['psfad-vae-mellow']['win_rate'] == res['runs']['psfad-vae-mellow']['win_rate']  # read back from eval.json
    assert json.loads((tmp_path/'sw'/'sweep.json').read_text())['failed'] == ['broken']

def test_sweep_under_a_launcher_runs_the_train_cli(root, tmp_path):
    # `torchrun --nproc_per_node 1` stands in for `accelerate launch` on a cluster: the same runner, no notebook
    import sys, pathlib
    spec = dict(name='t', defaults=dict(rounds=1, prompts_per_round=2, demo_steps=2, eval_prompts=4, eval_steps=2),
                runs=[dict(reward='psfad-vae-mellow')])
    torchrun = str(pathlib.Path(sys.executable).parent/'torchrun')
    res = run_sweep(spec, tmp_path/'sw', progress=False, launcher=f'{torchrun} --nproc_per_node 1')
    assert res['runs']['psfad-vae-mellow']['status'] == 'done', res['runs']['psfad-vae-mellow'].get('error')
    assert not (tmp_path/'sw'/'psfad-vae-mellow.ipynb').exists()                       # no notebook: the CLI ran
    cfg = json.loads((tmp_path/'sw'/'psfad-vae-mellow'/'config.json').read_text())
    assert cfg['config']['rounds'] == 1 and cfg['config']['eval_steps'] == 2

def test_sweep_files_cover_every_reward_with_the_cpu_preset(root):
    from dragon_nb.sweep import expand
    from dragon_nb.train import preset_config
    from dragon_nb.rewards import REWARDS
    runs = expand(json.loads((root/'data'/'sweeps'/'rewards.json').read_text()))
    assert sorted(r['params']['reward'] for r in runs) == sorted(REWARDS) and len(runs) >= 20
    for r in runs:
        cfg = preset_config('cpu', r['params']['reward']).__dict__
        assert all(cfg[k] == v for k, v in r['params'].items()), r['id']
    abl = expand(json.loads((root/'data'/'sweeps'/'ablations.json').read_text()))
    assert {r['id'] for r in abl} >= {'kto-paired', 'kto-unpaired', 'demo-steps-4', 'demo-steps-16'}
