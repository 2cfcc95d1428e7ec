"""Screening candidates for the embedded default (issue 31): each candidate trains for the same wall-clock budget and
thread count with `dragon_nb.pretrain`, then gets the same quick evaluation against real toymusic:

- log-mel frame Frechet distance to real clips of 48 training-split captions, as a ratio to real vs real
  (generated at 20 steps, guidance 1 and the pipeline's own guidance);
- tempo (fast > slow onset rate) and drums (on > off percussive share) on 24 seed-paired held-out prompt pairs,
  and the percussive share of generated clips without drums next to real clips without drums;
- a spectrogram grid, real vs generated, for 8 held-out prompts.

    python bench/screen_default.py NAME --arch unet [--budget 1500] [--threads 1] [--set key=value ...]
    python bench/screen_default.py NAME --eval-only --model DIR     # evaluate a saved pipeline (e.g. the shipped default)
    python bench/screen_default.py default-v2-shipped --eval-only --grid nbs/images/default_grid.png --dpi 90   # the README grid

Checkpoints and the trained pipeline go to ~/.cache/dragon_nb/screen/NAME (a second call resumes or re-evaluates);
the result row goes to bench/results/screen_default.json and the grid to bench/results/screen_default/NAME.png.
"""
import argparse, json, sys, time
from dataclasses import asdict
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from prompt_adherence import onset_rate, percussive_share, paired
from dragon_nb.core import atomic_write
from dragon_nb.model import load_pipeline
from dragon_nb.metrics import frechet_distance
from dragon_nb.pretrain import PretrainConfig, pretrain
from dragon_nb.toymusic import sample_attrs, caption, render

RESULTS = Path('bench/results/screen_default.json')
CACHE = Path.home()/'.cache'/'dragon_nb'/'screen'

def mel_frames(pipe, audio):
    "Log-mel frames `(n * frames, n_mels)` of `(n, 1, samples)` audio, in float64."
    m = pipe.codec.mel(torch.as_tensor(audio).float().reshape(len(audio), -1))
    return m.permute(0, 2, 1).reshape(-1, m.shape[1]).double()

def quick_eval(pipe, n_fd: int = 48, n_pairs: int = 24, steps: int = 20, grid: Path | None = None, dpi: int = 60) -> dict:
    "The screening measures of one pipeline (see the module docstring)."
    t0, res = time.time(), {}
    attrs = [sample_attrs(np.random.default_rng([55, i]), 'train') for i in range(n_fd)]
    caps = [caption(x, np.random.default_rng(i)) for i, x in enumerate(attrs)]
    real1 = torch.stack([torch.as_tensor(render(x, 5000 + i)).float() for i, x in enumerate(attrs)])[:, None]
    real2 = torch.stack([torch.as_tensor(render(x, 6000 + i)).float() for i, x in enumerate(attrs)])[:, None]
    R1 = mel_frames(pipe, real1)
    rr = float(frechet_distance(mel_frames(pipe, real2), R1)); res['fd_real_vs_real'] = round(rr, 2)
    for g in sorted({1.0, float(pipe.guidance)}):
        fd = float(frechet_distance(mel_frames(pipe, pipe(caps, seed=0, steps=steps, guidance=g, progress=False).audio), R1))
        res[f'fd_g{g:g}'] = round(fd, 2); res[f'fd_ratio_g{g:g}'] = round(fd / rr, 2)
    for attr, lo_v, hi_v, f, seed0 in (('tempo', 'slow', 'fast', onset_rate, 2), ('drums', False, True, percussive_share, 3)):
        _, _, lo, hi = paired(pipe, attr, lo_v, hi_v, n_pairs, steps, seed0)
        flo, fhi = np.array([f(x) for x in lo]), np.array([f(x) for x in hi])
        res[f'{attr}_win'] = round(float((fhi > flo).mean()), 3)
        res[f'{attr}_lo_hi'] = [round(float(flo.mean()), 3), round(float(fhi.mean()), 3)]
    real_off = [percussive_share(render({**sample_attrs(np.random.default_rng([3, i]), 'heldout'), 'drums': False}, 10 + i))
                for i in range(n_pairs)]
    res['perc_share_no_drums_real'] = round(float(np.mean(real_off)), 3)
    res['perc_share_no_drums_generated'] = res['drums_lo_hi'][0]
    if grid is not None: spectrogram_grid(pipe, grid, dpi=dpi)
    res['eval_seconds'] = round(time.time() - t0, 1)
    return res

def spectrogram_grid(pipe, out: Path, n: int = 8, steps: int = 20, dpi: int = 60):
    "Real (top) vs generated (bottom) log-mels for `n` held-out prompts."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    attrs = [sample_attrs(np.random.default_rng([77, i]), 'heldout') for i in range(n)]
    caps = [caption(x, np.random.default_rng([78, i])) for i, x in enumerate(attrs)]
    real = torch.stack([torch.as_tensor(render(x, 7000 + i)).float() for i, x in enumerate(attrs)])[:, None]
    gen = pipe(caps, seed=7000, steps=steps, progress=False).audio
    fig, ax = plt.subplots(2, n, figsize=(2.2 * n, 4.4))
    for c in range(n):
        for r, (name, audio) in enumerate((('real', real), ('generated', gen))):
            ax[r, c].imshow(pipe.codec.mel(audio[c:c + 1, 0])[0], origin='lower', aspect='auto', vmin=-11.5, vmax=1)
            ax[r, c].set_title(f'{name}: {caps[c][:34]}', fontsize=6); ax[r, c].set_xticks([]); ax[r, c].set_yticks([])
    plt.tight_layout(); out.parent.mkdir(parents=True, exist_ok=True); plt.savefig(out, dpi=dpi); plt.close(fig)
    from PIL import Image                                   # a 96-colour palette keeps the PNG small enough to commit
    Image.open(out).convert('RGB').quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)

def record(name: str, row: dict):
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows[name] = row
    atomic_write(RESULTS, lambda p: p.write_text(json.dumps(rows, indent=1) + '\n'))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('name'); ap.add_argument('--arch', default='unet'); ap.add_argument('--budget', type=float, default=1500)
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--eval-only', action='store_true')
    ap.add_argument('--model', default=None, help='with --eval-only: a saved pipeline folder (default: the shipped default)')
    ap.add_argument('--set', nargs='*', default=[], help='PretrainConfig overrides key=value (JSON values)')
    ap.add_argument('--grid', default=None, help='where the spectrogram grid goes (default: bench/results/screen_default/NAME.png)')
    ap.add_argument('--dpi', type=int, default=60, help="the grid's resolution")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    work = CACHE/a.name
    if a.eval_only: pipe, row = load_pipeline(a.model), dict(model=a.model or 'shipped default')
    else:
        over = {k: json.loads(v) for k, v in (s.split('=', 1) for s in a.set)}
        # screening: no decay over the budget (steps far beyond it) and a short EMA, the same for every candidate
        cfg = PretrainConfig(**{**dict(arch=a.arch, steps=10**6, ema=0.995, threads=a.threads, max_seconds=a.budget), **over})
        pipe = pretrain(cfg, work/'train', progress=False)
        pipe.save_pretrained(work/'model')
        row = dict(config=asdict(cfg), steps=pipe.info['steps'], train_seconds=pipe.info['seconds'],
                   params=pipe.info['params'], final_loss_ema=pipe.info['final_loss_ema'])
    t = time.perf_counter(); pipe(['a calm melody on a plucked string'] * 16, seed=0, steps=20, progress=False)
    row['gen16_seconds'] = round(time.perf_counter() - t, 2)
    row.update(quick_eval(pipe, grid=Path(a.grid or Path('bench/results/screen_default')/f'{a.name}.png'), dpi=a.dpi))
    row['threads'] = a.threads
    record(a.name, row); print(json.dumps({a.name: row}, indent=1))

if __name__ == '__main__': main()
