"Every registered reward scores a batch of the default pipeline; bad inputs fail clearly (issue 3)."
import json, math
import numpy as np, pytest, torch, soundfile as sf
from dragon_nb.core import Samples
from dragon_nb.rewards import REWARDS, get_reward, list_rewards, RewardContext, Reward, register, per_song_fad
from dragon_nb.encoders import get_encoder, Embeddings
from dragon_nb.exemplars import ExemplarSet, refstats, RefStats, compute_refstats
from dragon_nb.metrics import GaussianStats

PROMPTS = ['a happy melody on marimba in a high register, fast tempo, with drums',
           'a sad chord progression on soft pad in a low register, slow tempo, without drums']

@pytest.fixture(scope='module')
def batch(default_pipe):
    return default_pipe(PROMPTS, k=3, seed=0, steps=8, progress=False)

def test_registry_has_the_paper_grid():
    assert len(REWARDS) >= 20
    kinds = {r.kind for r in REWARDS.values()}
    assert kinds == {'instance', 'to_dist', 'set'}
    for alias in ('fad', 'psfad', 'clap', 'aesthetics', 'vendi'): assert get_reward(alias).name in REWARDS
    table = list_rewards(); text = repr(table)
    assert len(table) == len(REWARDS) and 'direction' in text and 'psfad-clap-text-upbeat' in text
    assert table._repr_markdown_().startswith('| name |')

def test_every_reward_scores_a_default_batch(batch, default_pipe):
    ctx = RewardContext(batch, default_pipe)
    for name, r in REWARDS.items():
        s = r(batch, ctx=ctx)
        if r.kind == 'set':
            assert isinstance(s, float) and math.isfinite(s), name
        else:
            assert s.shape == (len(batch),) and torch.isfinite(s).all(), name
    # one encoder pass per encoder for the whole grid
    assert set(ctx._emb) == {'clap', 'vae'}

def test_directions_make_sense(batch, default_pipe):
    ctx = RewardContext(batch, default_pipe)
    assert all(ctx.score(get_reward(f'psfad-vae-{r}')).max() <= 0 for r in ('upbeat', 'ambient'))   # negated distances
    v = ctx.score(get_reward('vendi'))
    assert 1 <= v <= len(batch)
    a = ctx.score(get_reward('aesthetics')); assert ((a > 0) & (a < 6)).all()
    c = ctx.score(get_reward('clap')); assert ((c >= -1) & (c <= 1)).all()

def test_clap_score_prefers_the_right_prompt(default_pipe):
    "Swapping prompts between two clips lowers the CLAP score (the text tower is real)."
    s = default_pipe(PROMPTS, k=4, seed=1, steps=20, progress=False)
    right = get_reward('clap')(s)
    swapped = Samples([PROMPTS[1]] * 4 + [PROMPTS[0]] * 4, s.group, s.seeds, s.latents, s.audio, s.sample_rate)
    assert right.mean() > get_reward('clap')(swapped).mean()

def test_unknown_reward_suggests_closest():
    with pytest.raises(ValueError, match="Did you mean 'aesthetics'"): get_reward('aesthetic')

def test_nan_audio_fails_with_index(default_pipe):
    s = default_pipe(PROMPTS[:1], k=2, steps=2, progress=False)
    s.audio[1, 0, 100] = float('nan')
    with pytest.raises(ValueError, match=r'items \[1\].*NaN'): get_reward('aesthetics')(s)

def test_silent_and_nan_exemplars_refused(tmp_path):
    sf.write(tmp_path/'ok.wav', 0.2 * np.sin(np.arange(32000) * 0.05), 16000)
    sf.write(tmp_path/'silent.wav', np.zeros(32000), 16000)
    with pytest.raises(ValueError, match="silent.wav.*silent"):
        compute_refstats(ExemplarSet('s', items=[str(tmp_path/'silent.wav'), str(tmp_path/'ok.wav')]), get_encoder('clap'))

def test_empty_and_too_small_sets(tmp_path):
    with pytest.raises(ValueError, match='empty'): ExemplarSet('e', items=[])
    with pytest.raises(ValueError, match='captions'): ExemplarSet('t', kind='text', captions=[])
    with pytest.raises(ValueError, match='at least 2'):
        compute_refstats(ExemplarSet('one', kind='text', captions=['a single caption']), get_encoder('clap'))

def test_other_sample_rate_is_resampled(tmp_path):
    t = np.arange(int(2.048 * 44100)) / 44100
    x = 0.3 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path/'a44.wav', x, 44100)
    sf.write(tmp_path/'a16.wav', 0.3 * np.sin(2 * np.pi * 440 * np.arange(32768) / 16000), 16000)
    enc = get_encoder('clap')
    e44 = compute_refstats(ExemplarSet('r44', items=[str(tmp_path/'a44.wav')] * 2), enc)
    e16 = compute_refstats(ExemplarSet('r16', items=[str(tmp_path/'a16.wav')] * 2), enc)
    torch.testing.assert_close(e44.mean, e16.mean, atol=0.05, rtol=0)

def test_dimension_mismatch_is_explained(batch, default_pipe):
    bad = Reward('psfad-mismatch', 'to_dist', 'clap', per_song_fad, 'upbeat', -1.0)
    ctx = RewardContext(batch, default_pipe)
    ctx.ref = lambda r: refstats('upbeat', ctx.encoder('vae'))       # a 128-d reference for 256-d CLAP frames
    with pytest.raises(ValueError, match='256-d but the reference'): ctx.score(bad)

def test_text_set_needs_text_encoder():
    with pytest.raises(ValueError, match='embeds audio only'): refstats('text-upbeat', 'vae')

def test_corrupt_statistics_file(tmp_path):
    (tmp_path/'x.safetensors').write_bytes(b'\x00' * 64)
    with pytest.raises(ValueError, match='corrupt.*Delete it'): RefStats.load(tmp_path/'x.safetensors')
    # in the cache, a corrupt entry is recomputed instead of failing
    rs = refstats('text-ambient', 'clap', cache_dir=tmp_path)
    f = next(tmp_path.glob('text-ambient-clap-*.safetensors')); f.write_bytes(b'garbage')
    rs2 = refstats('text-ambient', 'clap', cache_dir=tmp_path)
    torch.testing.assert_close(rs.mean, rs2.mean)

def _data_view(tmp_path, monkeypatch, refstats_dir=None):
    "A data folder with the real sets and models but an empty cache (and `refstats_dir` as its shipped statistics)."
    from dragon_nb.core import data_dir
    real = data_dir()
    for d in ('exemplars', 'models'): (tmp_path/d).symlink_to(real/d)
    (tmp_path/'refstats').symlink_to(refstats_dir or real/'refstats')
    monkeypatch.setenv('DRAGON_DATA', str(tmp_path))

def test_shipped_refstats_are_complete_and_used(tmp_path, monkeypatch):
    from dragon_nb.rewards import shipped_refstats_missing
    from dragon_nb.exemplars import get_exemplar_set
    assert shipped_refstats_missing() == [], ("data/refstats/ lacks the statistics of the current sets/encoders: run "
        "`python -m dragon_nb.cli refstats` and commit data/refstats/")
    _data_view(tmp_path, monkeypatch)
    rs = refstats('text-ambient', 'clap')
    assert not (tmp_path/'cache').exists()                     # read from the shipped copy: nothing computed or cached
    fresh = compute_refstats(get_exemplar_set('text-ambient'), get_encoder('clap'))
    torch.testing.assert_close(rs.mean, fresh.mean); torch.testing.assert_close(rs.cov, fresh.cov)
    assert rs.provenance['key'] == fresh.provenance['key']

def test_ship_refstats_removes_stale_files(tmp_path, monkeypatch):
    import shutil
    from dragon_nb.rewards import ship_refstats, reward_references
    from dragon_nb.core import data_dir
    shipped = tmp_path/'shipped'; shutil.copytree(data_dir()/'refstats', shipped)
    (shipped/'upbeat-clap-0000000000000000.safetensors').write_bytes(b'stale')
    (tmp_path/'d').mkdir(); _data_view(tmp_path/'d', monkeypatch, shipped)
    names = ship_refstats()
    assert len(names) == len(reward_references()) and sorted(p.name for p in shipped.iterdir()) == names
    assert not (tmp_path/'d'/'cache').exists()                  # all present: nothing recomputed
