"""Prompt adherence of the embedded default on held-out prompts, measured with DSP (not with the model).

Held-out prompts use (instrument, mood) pairs never seen in training (toymusic.HELDOUT_PAIRS). Each comparison
generates two prompts that differ in one attribute only (same template, same other words, same seed):
  register  high vs low  -> median pitch (harmonic product spectrum) and spectral centroid
  tempo     fast vs slow -> onset rate (spectral-flux peaks per second)
  drums     on vs off    -> percussive energy share (median-filter HPSS)
An instrument classifier trained on real toymusic clips names the instrument of generated held-out clips: logistic
regression on the shipped tiny CLAP's audio embeddings (a separate model from the generator, trained on the training
split only); for comparison also logistic regression on log-mel statistics. Finally the Frechet distance of log-mel frame statistics: generated vs
real next to real vs real.

The percussive share of generated clips without drums is compared with real clips of the same prompts without drums,
raw and passed through the model's codec (encode, decode), which bounds what the model can reach.

    python bench/prompt_adherence.py [--n 40] [--steps 20] [--guidance G] [--model NAME_OR_DIR] [--out bench/results/prompt_adherence.json]
"""
import argparse, json, time, sys
from pathlib import Path
import numpy as np, torch, scipy.ndimage as ndi
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from dragon_nb.model import load_pipeline
from dragon_nb.metrics import frechet_distance
from dragon_nb.evaluate import wilson as wilson_interval
from dragon_nb.audio import MelSpec
from dragon_nb.encoders import get_encoder
from dragon_nb.toymusic import sample_attrs, caption, render, INSTRUMENTS, SAMPLE_RATE, make_clip

SR = SAMPLE_RATE

def stft_mag(x, n_fft=2048, hop=256):
    x = torch.as_tensor(x).float().flatten()
    return torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft), return_complex=True).abs().numpy()  # (f, t)

def pitch_midi(x):
    "Median f0 (MIDI) over voiced frames, by harmonic product spectrum on a 4096-point STFT."
    S = stft_mag(x, 4096, 256); f = np.fft.rfftfreq(4096, 1 / SR)
    hps = S.copy()
    for h in (2, 3):
        d = S[::h]; hps[:len(d)] *= d; hps[len(d):] = 0
    lo, hi = np.searchsorted(f, 50), np.searchsorted(f, 1500)
    e = S.sum(0); voiced = e > 0.05 * e.max()
    f0 = f[lo + hps[lo:hi].argmax(0)][voiced]
    return float(np.median(69 + 12 * np.log2(f0 / 440))) if len(f0) else float('nan')

def centroid(x):
    S = stft_mag(x); f = np.fft.rfftfreq(2048, 1 / SR)[:, None]
    return float((S * f).sum() / (S.sum() + 1e-9))

def onset_rate(x):
    "Onsets per second: peaks of positive spectral flux on a log-magnitude spectrogram."
    S = np.log1p(100 * stft_mag(x, 1024, 128))
    flux = np.maximum(0, np.diff(S, axis=1)).sum(0)
    flux = flux / (flux.max() + 1e-9)
    thr = ndi.uniform_filter1d(flux, 15) + 0.1
    peaks = [i for i in range(1, len(flux) - 1) if flux[i] > thr[i] and flux[i] >= flux[i - 1] and flux[i] > flux[i + 1]]
    keep, last = [], -99
    for p in peaks:                                  # at least 60 ms apart
        if p - last >= int(0.06 * SR / 128): keep.append(p); last = p
    return len(keep) / (len(x.flatten()) / SR)

def percussive_share(x):
    "Share of spectral energy that median-filter HPSS assigns to the percussive part."
    S = stft_mag(x, 1024, 256) ** 2
    H = ndi.median_filter(S, size=(1, 17)); P = ndi.median_filter(S, size=(17, 1))
    return float((S * (P > H)).sum() / (S.sum() + 1e-12))

MEL = MelSpec()
def mel_feats(x):
    m = MEL(torch.as_tensor(x).float().flatten()).numpy()          # (64, frames)
    d = np.abs(np.diff(m, axis=1))
    return np.concatenate([m.mean(1), m.std(1), d.mean(1)])

def mel_frames(x):
    return MEL(torch.as_tensor(x).float().flatten()).numpy().T      # (frames, 64)

def frechet(a, b):
    "Frechet distance between Gaussians fitted to rows of a and b (dragon_nb.metrics' exact eigen form)."
    return frechet_distance(a.astype(np.float64), b.astype(np.float64))

def paired(pipe, attr, lo, hi, n, steps, seed0, guidance=None):
    "n seed-paired generations differing only in `attr` (lo vs hi); returns the two prompt lists and audio."
    P_lo, P_hi, seeds = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed0, i])
        a = sample_attrs(rng, 'heldout')
        tpl_seed = int(rng.integers(1 << 30))
        P_lo.append(caption({**a, attr: lo}, np.random.default_rng(tpl_seed)))
        P_hi.append(caption({**a, attr: hi}, np.random.default_rng(tpl_seed)))
        seeds.append(seed0 * 100_000 + i)
    s = pipe(P_lo + P_hi, seeds=seeds + seeds, steps=steps, guidance=guidance, progress=False)
    return P_lo, P_hi, s.audio[:n, 0].numpy(), s.audio[n:, 0].numpy()

def wilson(k, n):
    return [round(x, 3) for x in wilson_interval(k, n)]

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=40); ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--model', default=None); ap.add_argument('--out', default='bench/results/prompt_adherence.json')
    ap.add_argument('--guidance', type=float, default=None, help="classifier-free guidance (default: the model's own)")
    a = ap.parse_args(); t0 = time.time()
    pipe = load_pipeline(a.model); g = pipe.guidance if a.guidance is None else a.guidance
    res = dict(n_pairs=a.n, steps=a.steps, guidance=g, model=a.model or 'embedded default')
    def report(name, lo_vals, hi_vals):
        lo_vals, hi_vals = np.array(lo_vals), np.array(hi_vals)
        wins = int((hi_vals > lo_vals).sum())
        res[name] = dict(win_rate=round(wins / len(lo_vals), 3), wilson95=wilson(wins, len(lo_vals)),
                         mean_lo=round(float(np.nanmean(lo_vals)), 3), mean_hi=round(float(np.nanmean(hi_vals)), 3))
        print(f'{name:28s} win {wins}/{len(lo_vals)} = {wins / len(lo_vals):.0%}  lo {np.nanmean(lo_vals):.3f}  hi {np.nanmean(hi_vals):.3f}', flush=True)
    _, _, lo, hi = paired(pipe, 'register', 'low', 'high', a.n, a.steps, 1, g)
    report('register_pitch_high_gt_low', [pitch_midi(x) for x in lo], [pitch_midi(x) for x in hi])
    report('register_centroid_high_gt_low', [centroid(x) for x in lo], [centroid(x) for x in hi])
    _, _, lo, hi = paired(pipe, 'tempo', 'slow', 'fast', a.n, a.steps, 2, g)
    report('tempo_onsets_fast_gt_slow', [onset_rate(x) for x in lo], [onset_rate(x) for x in hi])
    _, _, lo, hi = paired(pipe, 'drums', False, True, a.n, a.steps, 3, g)
    report('drums_percussive_on_gt_off', [percussive_share(x) for x in lo], [percussive_share(x) for x in hi])
    # percussive share without drums: generated vs real clips of the same attributes, raw and through the codec
    off = [{**sample_attrs(np.random.default_rng([3, i]), 'heldout'), 'drums': False} for i in range(a.n)]
    real_off = np.stack([render(at, 30 + i) for i, at in enumerate(off)])
    with torch.no_grad():
        x = torch.as_tensor(real_off).float()[:, None]
        codec_off = pipe.codec.decode(pipe.codec.encode(x))[:, 0].numpy()
    ps = lambda xs: round(float(np.mean([percussive_share(v) for v in xs])), 4)
    share = dict(generated=ps(lo), real=ps(real_off), real_through_codec=ps(codec_off))
    res['percussive_share_no_drums'] = share = {**share, 'generated_over_codec': round(share['generated'] / share['real_through_codec'], 2)}
    print('percussive share without drums:', share, flush=True)
    # the same DSP measures on real toymusic pairs: how well can the measures themselves tell?
    real = {}
    for attr, lo_v, hi_v, f in (('register', 'low', 'high', pitch_midi), ('tempo', 'slow', 'fast', onset_rate), ('drums', False, True, percussive_share)):
        w = 0
        for i in range(a.n):
            at = sample_attrs(np.random.default_rng([9, i]), 'heldout')
            w += f(render({**at, attr: hi_v}, 10 + i)) > f(render({**at, attr: lo_v}, 10 + i))
        real[attr] = round(w / a.n, 3)
    res['same_measures_on_real_pairs'] = real; print('same measures on real toymusic pairs:', real)
    # instrument classifiers trained on real clips (all instruments, both moods), tested on generated held-out prompts
    train = [make_clip(500_000 + i, 'all') for i in range(1200)]
    test_real = [make_clip(700_000 + i, 'heldout') for i in range(200)]
    n_gen = max(a.n * 2, 60)
    attrs = [sample_attrs(np.random.default_rng([4, i]), 'heldout') for i in range(n_gen)]
    prompts = [caption(at, np.random.default_rng([5, i])) for i, at in enumerate(attrs)]
    gen = pipe(prompts, seed=4_000_000, steps=a.steps, guidance=g, progress=False).audio[:, 0].numpy()
    clap = get_encoder('clap')
    feats = dict(tiny_clap=lambda xs: clap.embed_audio(torch.as_tensor(np.stack([np.ravel(x) for x in xs])).float()[:, None], SR).pooled.numpy(),
                 log_mel_stats=lambda xs: np.stack([mel_feats(x) for x in xs]))
    chance = 1 / len(INSTRUMENTS); want = np.array([at['instrument'] for at in attrs])
    for name, f in feats.items():
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.5))
        clf.fit(f([c.audio for c in train]), [c.attrs['instrument'] for c in train])
        acc_real = clf.score(f([c.audio for c in test_real]), [c.attrs['instrument'] for c in test_real])
        acc_gen = float(np.mean(clf.predict(f(gen)) == want))
        res['instrument' if name == 'tiny_clap' else f'instrument_{name}'] = dict(
            features=name, classifier_acc_on_real_heldout=round(acc_real, 3), acc_on_generated_heldout=round(acc_gen, 3),
            chance=round(chance, 3), times_chance=round(acc_gen / chance, 2), n_generated=n_gen,
            wilson95=wilson(int(round(acc_gen * n_gen)), n_gen))
        print(f"instrument ({name}): classifier on real held-out {acc_real:.1%}; on generated held-out {acc_gen:.1%} = {acc_gen / chance:.2f}x chance ({chance:.1%})")
    # Frechet distance of log-mel frames: generated vs real (same attributes and captions) and real vs real
    real1 = [render(at, 800_000 + i) for i, at in enumerate(attrs)]
    real2 = [render(at, 900_000 + i) for i, at in enumerate(attrs)]
    F = lambda xs: np.concatenate([mel_frames(x) for x in xs])
    res['mel_frechet'] = dict(generated_vs_real=round(frechet(F(gen), F(real1)), 3), real_vs_real=round(frechet(F(real2), F(real1)), 3))
    print('mel-frame Frechet distance:', res['mel_frechet'])
    res['seconds'] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=2))
    print('wrote', a.out, f'({res["seconds"]} s)')

if __name__ == '__main__': main()
