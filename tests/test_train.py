"DRAGON trainer: papermill parameters, kill/resume, losses on the real DiT, bad parameters (issue 4)."
import json, math, os, signal, subprocess, sys, time
from dataclasses import asdict
from pathlib import Path
import pytest, torch
from conftest import parameters_cell, CodePayload
from dragon_nb.train import DragonConfig, DragonTrainer, demo_loss
from dragon_nb.demos import Demos
from dragon_nb.losses import dpo_loss, kto_loss
from dragon_nb.model import denoise_error

SMOKE = dict(rounds=4, prompts_per_round=3, k=2, demo_steps=3, eval_prompts=4, eval_steps=4)

def _papermill(root, out, params):
    cmd = [sys.executable, '-m', 'papermill', str(root/'nbs'/'train.ipynb'), str(out), '--cwd', str(root/'nbs'), '-k', 'python3']
    for k, v in params.items(): cmd += ['-p', k, str(v)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)

def test_papermill_uses_injected_reward(root, tmp_path):
    r = _papermill(root, tmp_path/'out.ipynb', dict(reward='fad', rounds=1, prompts_per_round=2, demo_steps=2,
                                                    eval_prompts=4, eval_steps=2, run_dir=tmp_path/'run'))
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'unknown parameter' not in r.stderr, r.stderr[-3000:]     # papermill knows every name it injected
    cfg = json.loads((tmp_path/'run'/'config.json').read_text())
    assert cfg['config']['reward'] == 'fad' and cfg['reward'] == 'dsfad-clap-upbeat'     # the alias was injected, not the default
    ev = json.loads((tmp_path/'run'/'eval.json').read_text())
    assert ev['reward'] == 'dsfad-clap-upbeat' and 0 <= ev['win_rate'] <= 1
    for f in ('metrics.jsonl', 'checkpoint.pt', 'plots/reward_curve.png', 'plots/umap.png', 'samples/00_base.wav', 'samples/00_tuned.wav'):
        assert (tmp_path/'run'/f).exists(), f

def test_template_parameters_are_the_config(root):
    "nbs/train.ipynb's parameters cell is DragonConfig field by field (names, order, defaults), then map_method."
    import ast
    from dataclasses import fields
    cell = parameters_cell(json.loads((root/'nbs'/'train.ipynb').read_text()))
    got = [(n.target.id, ast.literal_eval(n.value)) for n in ast.parse(''.join(cell['source'])).body]
    assert got == [(f.name, f.default) for f in fields(DragonConfig)] + [('map_method', 'umap')]

@pytest.mark.parametrize('bad, msg', [(dict(beta=0), 'beta must be > 0'), (dict(map_method='tsne'), "map_method must be 'umap' or 'pca'")])
def test_bad_parameters_fail_in_the_first_cells(root, tmp_path, bad, msg):
    r = _papermill(root, tmp_path/'out.ipynb', dict(**bad, run_dir=tmp_path/'run'))
    assert r.returncode != 0 and msg in (r.stderr + (tmp_path/'out.ipynb').read_text())
    assert not (tmp_path/'run'/'metrics.jsonl').exists()

def _train_cmd(run_dir, **kw):
    args = [sys.executable, '-m', 'dragon_nb.cli', 'train', '--run-dir', str(run_dir), '--reward', 'psfad-vae-upbeat']
    for k, v in {**SMOKE, **kw}.items(): args += ['--' + k.replace('_', '-'), str(v)]
    return args

def _rows(run):
    drop = ('seconds_generate', 'seconds_score', 'seconds_update')
    return [{k: v for k, v in json.loads(l).items() if k not in drop} for l in (run/'metrics.jsonl').read_text().splitlines()]

def test_sigkill_and_resume_matches_uninterrupted(root, tmp_path):
    ref = subprocess.run(_train_cmd(tmp_path/'ref'), cwd=root, capture_output=True, text=True, timeout=900)
    assert ref.returncode == 0, ref.stderr[-2000:]
    p = subprocess.Popen(_train_cmd(tmp_path/'killed'), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    m = tmp_path/'killed'/'metrics.jsonl'
    t0 = time.time()
    while time.time() - t0 < 600 and (not m.exists() or len(m.read_text().splitlines()) < 2): time.sleep(0.2)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    done = len(m.read_text().splitlines())
    assert 2 <= done < SMOKE['rounds'], f'killed after {done} rounds: cannot test resume'
    res = subprocess.run(_train_cmd(tmp_path/'killed'), cwd=root, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    a, b = _rows(tmp_path/'ref'), _rows(tmp_path/'killed')
    assert [r['round'] for r in b] == list(range(1, SMOKE['rounds'] + 1))          # none lost, none duplicated
    for x, y in zip(a, b):
        for k in x: assert x[k] == pytest.approx(y[k], rel=1e-5, abs=1e-7, nan_ok=True), (x['round'], k, x[k], y[k])

def test_losses_neutral_at_the_reference(default_pipe):
    tr = default_pipe.transformer
    s = default_pipe(['a happy melody on bell', 'dark organ chords'], k=2, steps=2, output='latent', progress=False)
    cond = default_pipe.conditioner(s.prompts, duration=2.048)
    g = torch.Generator().manual_seed(0)
    t = torch.rand(4, generator=g); noise = torch.randn(s.latents.shape, generator=g)
    with torch.no_grad(): e = denoise_error(tr, s.latents, cond, t, noise)
    assert dpo_loss(e[:2], e[2:], e[:2], e[2:], 1000.)[0].item() == pytest.approx(math.log(2))
    assert kto_loss(e, e, torch.tensor([True, False, True, False]), 1000.)[0].item() == pytest.approx(0.5)

def test_a_step_on_a_clear_preference_moves_the_implicit_reward(default_pipe, tmp_path):
    cfg = DragonConfig(reward='psfad-vae-upbeat', lr=1e-4, beta=500., run_dir=str(tmp_path/'r'))
    trainer = DragonTrainer(cfg, pipe=__import__('dragon_nb').load_pipeline(), progress=False)
    s = trainer.pipe(['a happy melody on bell', 'dark organ chords'], k=2, steps=4, output='latent', progress=False)
    demos = Demos([0, 2], [1, 3], True, {})
    def margin():
        g = torch.Generator().manual_seed(1)
        with torch.no_grad(): return demo_loss(trainer.pipe.transformer, trainer.ref_error, trainer.pipe, s, demos, torch.arange(2), cfg, g)[1]['margin']
    before = margin()
    for _ in range(3):
        loss, _ = demo_loss(trainer.pipe.transformer, trainer.ref_error, trainer.pipe, s, demos, torch.arange(2), cfg, torch.Generator().manual_seed(1))
        trainer.opt.zero_grad(); loss.backward(); trainer.opt.step()
    assert margin() > before          # winners became relatively more likely than losers

@pytest.mark.parametrize('kw,msg', [(dict(reward='nope'), 'Unknown reward'), (dict(loss='ppo'), "'dpo' or 'kto'"),
                                    (dict(beta=-1), 'beta must be > 0'), (dict(k=1), 'k >= 2'), (dict(demo_steps=0), 'demo_steps'),
                                    (dict(model='/missing/model'), 'not found'), (dict(eval_every=-2), 'eval_every must be'),
                                    (dict(prompt_file='/missing/prompts.txt'), "prompt_file: '/missing/prompts.txt' not found")])
def test_bad_config(kw, msg):
    with pytest.raises((ValueError, FileNotFoundError), match=msg): DragonConfig(**kw).validate()

def test_own_prompt_files_and_eval_every(tmp_path):
    "Training and evaluation prompts from the user's files; eval_every logs the eval prompts' reward; the run's pairs carry them."
    from dragon_nb.viz import run_pairs
    (tmp_path/'train.txt').write_text('# training\nslow organ chords, dark\nfast marimba melody with drums\nsoft pad, high notes\n')
    (tmp_path/'eval.txt').write_text('a bright bell melody\na low plucked string line\na third prompt, not used\n')
    cfg = DragonConfig(reward='aesthetics', rounds=2, prompts_per_round=2, k=2, demo_steps=2, eval_prompts=2, eval_steps=2, eval_every=1,
                       prompt_file=str(tmp_path/'train.txt'), eval_prompt_file=str(tmp_path/'eval.txt'), run_dir=str(tmp_path/'run'))
    tr = DragonTrainer(cfg, pipe=__import__('dragon_nb').load_pipeline(), progress=False)
    tr.fit()
    rows = tr.metrics()
    assert [('eval_reward' in r) for r in rows] == [True, True]
    ev = json.loads((tmp_path/'run'/'eval.json').read_text())
    assert rows[-1]['eval_reward'] == pytest.approx(ev['reward_after'], rel=1e-6)   # the same prompts, seeds and model
    b, a = ev['per_prompt']['before'], ev['per_prompt']['after']      # each prompt's score: they give the win rate and the means
    assert len(a) == 2 and ev['win_rate'] == sum((x > y) + 0.5 * (x == y) for x, y in zip(a, b)) / 2
    assert sum(a) / 2 == pytest.approx(ev['reward_after'], rel=1e-6) and sum(b) / 2 == pytest.approx(ev['reward_before'], rel=1e-6)
    assert ev['prompts'] == ['a bright bell melody', 'a low plucked string line']
    (tmp_path/'eval.txt').unlink()                      # the pairs keep their prompts: eval.json records them
    assert [p['prompt'] for p in run_pairs(tmp_path/'run')] == ['a bright bell melody', 'a low plucked string line']

def test_lora_trains_only_adapters_and_reference_is_the_base(tmp_path):
    from dragon_nb.testing import tiny_dragon_pipeline
    pipe = tiny_dragon_pipeline(seed=2)
    base = {k: v.clone() for k, v in pipe.transformer.state_dict().items()}
    tr = DragonTrainer(DragonConfig(reward='psfad-vae-upbeat', lora_rank=4, rounds=2, prompts_per_round=3, demo_steps=2,
                                    lr=1e-3, run_dir=str(tmp_path/'lora')), pipe, progress=False)
    names = {n for n, p in tr.pipe.transformer.named_parameters() if p.requires_grad}
    assert names and all('lora_' in n for n in names)
    tr.fit(evaluate_at_end=False)
    sd = tr.pipe.transformer.state_dict()
    assert all(torch.equal(sd[k], v) for k, v in base.items() if k in sd)             # base weights untouched
    s = tr.pipe(['a happy melody on bell'], steps=2, output='latent', progress=False)
    cond = tr.pipe.conditioner(s.prompts, duration=2.048)
    t, noise = torch.full((1,), 0.5), torch.randn(s.latents.shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = tr.ref_error(s.latents, cond, t, noise)
        pol = denoise_error(tr.pipe.transformer, s.latents, cond, t, noise)
        with tr.base_model() as bp: base_err = denoise_error(bp.transformer, s.latents, cond, t, noise)
    assert torch.equal(ref, base_err) and not torch.equal(ref, pol)                  # reference = base; the policy moved
    assert any(v.abs().sum() > 0 for k, v in sd.items() if 'lora_B' in k)             # LoRA B starts at 0: it was trained

def test_trainable_prompt_path_changes_only_those_weights(tmp_path):
    from dragon_nb.testing import tiny_dragon_pipeline
    pipe = tiny_dragon_pipeline(seed=2)
    base = {k: v.clone() for k, v in pipe.transformer.state_dict().items()}
    tr = DragonTrainer(DragonConfig(reward='psfad-vae-upbeat', trainable='prompt-path', rounds=2, prompts_per_round=3,
                                    demo_steps=2, lr=1e-3, run_dir=str(tmp_path/'pp')), pipe, progress=False)
    tr.fit(evaluate_at_end=False)
    sd = tr.pipe.transformer.state_dict()
    path = lambda k: 'attn2.' in k or k.startswith(('cross_attention_proj', 'global_proj'))
    changed = {k for k, v in base.items() if not torch.equal(sd[k], v)}
    assert changed and all(path(k) for k in changed)                                   # nothing outside the prompt path moved
    assert any('attn2.' in k for k in changed) and any(k.startswith('cross_attention_proj') for k in changed)
    assert set(torch.load(tr.ckpt_path, weights_only=False)['trainable']) == {k for k in base if path(k)}

def test_resume_refuses_checkpoints_that_would_run_code_or_are_damaged(tmp_path):
    "issue 35: checkpoints load with weights_only=True; a refused file gets an error naming it and the fix."
    marker = tmp_path/'marker'
    tr = DragonTrainer(DragonConfig(**SMOKE, run_dir=str(tmp_path/'run')))
    tr.ckpt_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(round=1, step=1, trainable={}, opt={}, extra=CodePayload(str(marker))), tr.ckpt_path)
    with pytest.raises(RuntimeError, match=r"Cannot resume from '.*checkpoint.pt'.*Move it away"): tr.resume()
    assert not marker.exists()
    tr.ckpt_path.write_bytes(b'not a checkpoint')                       # damaged (a truncated write, another tool's file)
    with pytest.raises(RuntimeError, match='Cannot resume from'): tr.resume()
