"Workbench widgets driven from Python (no browser): exemplar-set builder, embedding-map clicks, listening panel."
import json
from pathlib import Path
from types import SimpleNamespace
import numpy as np
import pytest
import torch


@pytest.fixture
def data(tmp_path, monkeypatch):
    "A private data folder: sets are saved to tmp/exemplars, caches to tmp/cache; rewards registered here are dropped after."
    from dragon_nb.rewards import REWARDS
    d = tmp_path/'data'; (d/'exemplars').mkdir(parents=True)
    monkeypatch.setenv('DRAGON_DATA', str(d))
    before = dict(REWARDS)
    yield d
    REWARDS.clear(); REWARDS.update(before)     # a set saved here is gone afterwards: later tests must not score its reward


@pytest.fixture
def audio_folder(tmp_path):
    "Two good files (one in a subfolder), one corrupt file, one empty file, one silent file and a text file."
    from dragon_nb.audio import save_audio
    f = tmp_path/'audio'; (f/'sub').mkdir(parents=True)
    t = torch.arange(16000) / 16000
    save_audio(f/'a.wav', (0.3 * torch.sin(2 * np.pi * 440 * t))[None], 16000)
    save_audio(f/'sub'/'b.flac', (0.3 * torch.sin(2 * np.pi * 220 * t))[None], 16000)
    (f/'corrupt.wav').write_bytes(b'RIFF\x00\x00garbage')
    (f/'empty.wav').write_bytes(b'')
    save_audio(f/'silent.wav', torch.zeros(1, 16000), 16000)
    (f/'readme.txt').write_text('not audio')
    return f


@pytest.fixture(scope='module')
def tiny():
    "A tiny random pipeline and fake samples (random latents/audio): enough for the 'vae' encoder and a preview."
    from dragon_nb.testing import tiny_dragon_pipeline
    from dragon_nb.core import Samples
    pipe = tiny_dragon_pipeline()
    g = torch.Generator().manual_seed(0)
    s = Samples(['p0', 'p1', 'p2'], torch.arange(3), torch.arange(3), torch.randn(3, 128, 64, generator=g),
                0.1 * torch.randn(3, 1, 32768, generator=g), 16000)
    return pipe, s


def test_builder_browse_include_exclude_save(data, audio_folder):
    from dragon_nb.widgets import ExemplarBuilder
    from dragon_nb.exemplars import ExemplarSet, list_exemplar_sets
    b = ExemplarBuilder('my-files', folder=str(audio_folder))
    b.source.value = 'folder'
    b.load_btn.click()
    assert [c.label for c in b.candidates] == ['a.wav', 'sub/b.flac']          # recursive, only readable audio
    notes = b.notes.value                                                      # visible notes, no exception
    for bad in ('corrupt.wav', 'empty.wav', 'silent.wav'): assert f"skipped '{bad}'" in notes
    assert 'readme.txt' not in notes
    rows = [r for r in b.rows.children if hasattr(r, 'children')]
    rows[0].children[0].value = True; rows[1].children[0].value = True        # tick both, as in the browser
    assert 'Set size: 2 items' in b.size.value
    rows[1].children[0].value = False                                          # exclude one again
    assert len(b.items()) == 1 and 'Set size: 1 item' in b.size.value
    b.save_btn.click()
    assert 'Saved 1 items' in b.status.value and 'my-files' in list_exemplar_sets()
    es = ExemplarSet.load(data/'exemplars'/'my-files.json')
    assert es.files() == [(audio_folder/'a.wav').resolve()]


def test_builder_refuses_empty_and_bad_name(data):
    from dragon_nb.widgets import ExemplarBuilder
    b = ExemplarBuilder('nothing')
    b.save_btn.click()
    assert 'Nothing to save' in b.status.value and b.saved is None
    assert not (data/'exemplars'/'nothing.json').exists()
    b.source.value = 'captions'; b.caption_box.value = 'a calm pad\nfast drums'; b.load_btn.click(); b.include_shown()
    b.name.value = '../escape'; b.save_btn.click()
    assert 'Invalid set name' in b.status.value and not list((data/'exemplars').glob('*.json'))


def test_builder_asks_before_overwriting(data):
    from dragon_nb.widgets import ExemplarBuilder
    from dragon_nb.exemplars import ExemplarSet
    b = ExemplarBuilder('toys', toymusic=dict(n=3, seed=1))
    b.load_btn.click(); b.include(0); b.include(1)
    assert b.save() == data/'exemplars'/'toys.json'
    assert len(list((data/'exemplars'/'toys').glob('*.wav'))) == 2           # generated clips are copied next to the manifest
    before = (data/'exemplars'/'toys.json').read_text()
    b.include(2); b.save_btn.click()
    assert b.confirm.layout.display == 'flex' and 'already exists' in b.confirm_html.value
    assert (data/'exemplars'/'toys.json').read_text() == before               # nothing written before confirming
    b.cancel_btn.click()
    assert b.confirm.layout.display == 'none' and (data/'exemplars'/'toys.json').read_text() == before
    b.save_btn.click(); b.overwrite_btn.click()
    assert 'Saved 3 items' in b.status.value
    assert len(ExemplarSet.load(data/'exemplars'/'toys.json').files()) == 3


def test_builder_bad_folder_and_run_source_are_messages(data, tmp_path):
    from dragon_nb.widgets import ExemplarBuilder
    b = ExemplarBuilder(folder=str(tmp_path/'missing'), run_dir=str(tmp_path/'norun'))
    b.source.value = 'folder'; b.load_btn.click()
    assert 'Folder not found' in b.notes.value and b.candidates == []
    b.source.value = 'run samples'; b.load_btn.click()
    assert 'No samples/ folder' in b.notes.value


def test_builder_live_preview(data, tiny):
    from dragon_nb.widgets import ExemplarBuilder
    pipe, s = tiny
    b = ExemplarBuilder('prev', preview=s, encoder='vae', pipe=pipe, toymusic=dict(n=3, seed=0))
    assert 'include some' in b.preview_html.value
    b.load_btn.click(); b.include(0)
    first = b.preview_html.value
    assert 'mean' in first and 'higher = closer' in first
    b.include(1)
    assert b.preview_html.value != first                                         # updates live on include


def test_saved_set_defines_a_reward(data, tiny):
    from dragon_nb.widgets import ExemplarBuilder, set_reward, SetPreview, scan_folder
    from dragon_nb.rewards import get_reward
    pipe, s = tiny
    b = ExemplarBuilder('rew', toymusic=dict(n=4, seed=3)); b.load_btn.click(); b.include_shown(); b.save()
    r = set_reward('rew', 'vae')
    assert get_reward('psfad-vae-rew') is r and r.kind == 'to_dist'
    scores = r(s, pipe)
    saved, _ = scan_folder(data/'exemplars'/'rew')                             # the 16-bit copies the manifest points at
    assert np.allclose(scores.numpy(), SetPreview(s, 'vae', pipe).scores(saved), rtol=1e-5)   # the preview is the reward itself
    live = SetPreview(s, 'vae', pipe).scores(b.items())                         # before saving: float audio, same up to quantisation
    assert np.allclose(scores.numpy(), live, rtol=0.03)
    with pytest.raises(FileNotFoundError, match='save it first'): set_reward('unsaved', 'vae')


def test_map_click_plays_point(data, tiny):
    from dragon_nb.viz import embedding_map
    from dragon_nb.widgets import EmbeddingMapWidget
    from dragon_nb.exemplars import ExemplarSet
    pipe, s = tiny
    m = embedding_map({'set': ExemplarSet('t', toymusic=dict(n=4, seed=0)), 'samples': s}, 'vae', method='pca', pipe=pipe, progress=False)
    w = EmbeddingMapWidget(m)
    assert [t.name for t in w.fig.data] == ['set (4)', 'samples (3)']
    w._on_click(w.fig.data[1], SimpleNamespace(point_inds=[2]))
    assert w.info.value == '<b>samples</b>: p2' and w.player.value[:4] == b'RIFF'


@pytest.fixture
def run(tmp_path):
    from dragon_nb.audio import save_audio
    r = tmp_path/'run'; (r/'samples').mkdir(parents=True)
    for i in range(6):
        for tag in ('base', 'tuned'): save_audio(r/'samples'/f'{i:02d}_{tag}.wav', 0.1 * torch.randn(1, 800), 16000)
    json.dump({'config': {'eval_prompts': 6, 'seed': 0}}, open(r/'config.json', 'w'))
    return r


def test_listening_panel_blind_votes(run):
    from dragon_nb.widgets import ListeningPanel, load_votes, vote_summary
    from dragon_nb.evaluate import wilson
    from dragon_nb.train import eval_prompts
    from scipy.stats import binomtest
    p = ListeningPanel(run, rater='ann', seed=1)
    assert len(p.queue) == 6 and len({a for _, a in p.queue}) == 2              # both sides used: order is randomised
    assert [q['index'] for q, _ in p.queue] != list(range(6))                    # pairs shuffled
    assert 'tuned' not in p.header.value + p.prompt.value                       # blind
    first = p.current[0]
    assert p.prompt.value == f"Prompt: <i>{eval_prompts(6, 0)[first['index']]}</i>"
    # tuned, tuned, tuned (two by buttons, one by key), base, tie, tuned
    for want in ('tuned', 'tuned'):
        (p.a_btn if p.current[1] == want else p.b_btn).click()
    p.key_box.value = 'a' if p.current[1] == 'tuned' else 'b'
    assert p.key_box.value == ''                                                 # the key box clears itself
    (p.a_btn if p.current[1] == 'base' else p.b_btn).click()
    p.key_box.value = 't'
    (p.a_btn if p.current[1] == 'tuned' else p.b_btn).click()
    assert p.current is None and all(b.disabled for b in (p.a_btn, p.b_btn, p.t_btn))
    votes = [json.loads(l) for l in (run/'votes.jsonl').read_text().splitlines()]
    assert [v['preferred'] for v in votes] == ['tuned'] * 3 + ['base', 'tie', 'tuned']
    assert sorted(v['pair'] for v in votes) == list(range(6)) and {v['rater'] for v in votes} == {'ann'}
    s = vote_summary(load_votes(run))
    assert (s['n'], s['tuned'], s['base'], s['ties']) == (6, 4, 1, 1)
    assert s['win_rate'] == pytest.approx(4.5 / 6)
    assert s['wilson95'] == pytest.approx(list(wilson(4.5, 6)))
    assert s['p_value'] == pytest.approx(binomtest(4, 5, 0.5).pvalue)
    assert 'Fine-tuned preferred in 4 of 6 votes' in p.summary.value


def test_listening_panel_resumes_and_appends(run):
    from dragon_nb.widgets import ListeningPanel, load_votes
    a = ListeningPanel(run, rater='ann', seed=0); a.vote('A'); a.vote('B')
    b = ListeningPanel(run, rater='ann', seed=0)
    assert len(b.queue) == 4                                                     # this rater's voted pairs are skipped
    ListeningPanel(run, rater='bob', seed=0).vote('tie')
    assert len(load_votes(run)) == 3                                             # appended, nothing lost
    with pytest.raises(ValueError, match="'A', 'B' or 'tie'"): b.vote('left')


def test_listening_panel_needs_pairs(tmp_path):
    from dragon_nb.widgets import ListeningPanel
    (tmp_path/'samples').mkdir()
    with pytest.raises(FileNotFoundError, match='no samples/NN_base.wav'): ListeningPanel(tmp_path)
