"Real CLAP checkpoints as encoders: tiny random instances of the real classes, saved and loaded back offline."
import importlib.util, socket, subprocess, sys, tempfile
from pathlib import Path
from unittest import mock
import numpy as np, pytest, torch
from dragon_nb.audio import resample
from conftest import CodePayload
from dragon_nb.encoders import get_encoder
from dragon_nb.clap_adapters import (HFClapEncoder, LaionClapEncoder, _FrozenBatchNorm2d, _check_tokenizer,
                                     build_laion_clap, import_laion_clap, laion_arch, load_hf_clap, make_offline_hf_cache,
                                     read_laion_state, tiny_hf_clap)

torch.set_num_threads(1)
SR_IN = 44100
CAPTIONS = ['a calm piano melody', 'an aggressive metal guitar riff with loud drums']
needs_laion = pytest.mark.skipif(importlib.util.find_spec('laion_clap') is None, reason='laion_clap not installed')

def stereo_25s(n=2, seed=0):
    "25 s of 44.1 kHz stereo noise: resampled to 48 kHz and down-mixed by the encoders."
    return torch.randn(n, 2, 25 * SR_IN, generator=torch.Generator().manual_seed(seed)) * 0.1

def refuse_network(*args, **kwargs): raise OSError('network access attempted during an offline test')

@pytest.fixture(scope='module')
def tmp():
    with tempfile.TemporaryDirectory() as d: yield Path(d)

# --- transformers ClapModel folders -------------------------------------------------------------------------

@pytest.fixture(scope='module')
def hf(tmp):
    return get_encoder('hf-clap', path=str(tiny_hf_clap(tmp/'hf-clap')))

def test_hf_clap_shapes_norms_and_determinism(hf):
    a = stereo_25s()
    e = hf.embed_audio(a, SR_IN)
    assert isinstance(hf, HFClapEncoder) and (hf.dim, hf.sample_rate, hf.win) == (32, 48000, 480000)
    assert e.frames.shape == (2, 3, 32) and e.lengths.tolist() == [3, 3] and e.pooled.shape == (2, 32)
    torch.testing.assert_close(e.frames.norm(dim=-1), torch.ones(2, 3))
    torch.testing.assert_close(e.pooled.norm(dim=-1), torch.ones(2))
    assert torch.equal(hf.embed_audio(a, SR_IN).frames, e.frames)              # identical on a repeated call
    t = hf.embed_text(CAPTIONS)
    assert t.frames.shape == (2, 1, 32) and t.lengths.tolist() == [1, 1]
    torch.testing.assert_close(t.pooled.norm(dim=-1), torch.ones(2))
    assert torch.equal(hf.embed_text(CAPTIONS).pooled, t.pooled)

def test_hf_clap_window_equals_direct_model_call(hf):
    "The adapter's first frame is the model's own embedding of the first 10 s (after mono, 48 kHz, int16)."
    a = stereo_25s(1)
    x = resample(a.mean(1), SR_IN, 48000)[0, :480000]
    x = (x.clamp(-1, 1) * 32767.).to(torch.int16).float() / 32767.
    f = hf.fe([x.numpy()], sampling_rate=48000, return_tensors='pt', truncation='rand_trunc')
    with torch.no_grad(): ref = hf.model.get_audio_features(**f).pooler_output
    torch.testing.assert_close(hf.embed_audio(a, SR_IN).frames[0, 0], ref[0], atol=1e-5, rtol=0)

def test_hf_clap_other_rates_are_resampled_not_rejected(hf):
    x16 = torch.randn(1, 1, 12 * 16000, generator=torch.Generator().manual_seed(1)) * 0.1
    e16 = hf.embed_audio(x16, 16000)
    assert e16.frames.shape == (1, 2, 32)                                      # 12 s -> windows at 0 and 2 s
    assert torch.equal(e16.frames, hf.embed_audio(resample(x16, 16000, 48000), 48000).frames)

def test_hop_short_clips_and_quantize(tmp, hf):
    path = str(tmp/'hf-clap')
    fine = get_encoder('hf-clap', path=path, hop_s=1.0)
    assert fine.embed_audio(stereo_25s(1), SR_IN).frames.shape == (1, 16, 32)  # starts 0, 1, ..., 15 s
    short = torch.randn(1, 1, 3 * 48000, generator=torch.Generator().manual_seed(2)) * 0.1
    rep, zero = hf.embed_audio(short, 48000), get_encoder('hf-clap', path=path, pad='zero').embed_audio(short, 48000)
    assert rep.frames.shape == zero.frames.shape == (1, 1, 32) and not torch.allclose(rep.frames, zero.frames)
    raw = get_encoder('hf-clap', path=path, quantize=False)
    q = (short.clamp(-1, 1) * 32767.).to(torch.int16).float() / 32767.
    assert torch.equal(raw.embed_audio(q, 48000).frames, rep.frames)
    with pytest.raises(ValueError, match="Valid: 'repeat', 'zero'"): get_encoder('hf-clap', path=path, pad='reflect')

def test_hf_clap_fusion_is_deterministic(tmp, hf):
    "Fused models: the feature extractor would mark a random item as 'longer'; the adapter never does."
    from transformers import ClapAudioConfig, ClapConfig, ClapModel, ClapFeatureExtractor
    model, _, tok = load_hf_clap(tmp/'hf-clap')
    ac = ClapAudioConfig(depths=[1, 1], num_attention_heads=[1, 2], patch_embeds_hidden_size=8, hidden_size=16,
                         projection_dim=32, enable_fusion=True)
    cfg = ClapConfig(text_config=model.config.text_config.to_dict(), audio_config=ac.to_dict(), projection_dim=32)
    torch.manual_seed(0)
    enc = HFClapEncoder(ClapModel(cfg), ClapFeatureExtractor(truncation='fusion'), tok)
    a = torch.randn(3, 1, 10 * 48000, generator=torch.Generator().manual_seed(3)) * 0.1
    first = enc.embed_audio(a, 48000).frames
    for seed in range(3):
        np.random.seed(seed)
        assert torch.equal(enc.embed_audio(a, 48000).frames, first)

def test_hf_clap_errors(tmp, hf):
    with pytest.raises(ValueError, match=r"path='/path/clap-htsat-unfused'"): get_encoder('hf-clap')
    with pytest.raises(OSError, match='hf download laion/clap-htsat-unfused'):
        get_encoder('hf-clap', path=str(tmp/'no-such-folder'))
    with pytest.raises(ValueError, match='NaN'): hf.embed_audio(torch.full((1, 1, 1000), float('nan')), 48000)
    with pytest.raises(ValueError, match='non-empty list of strings'): hf.embed_text([])

# --- LAION-CLAP through laion_clap -------------------------------------------------------------------------

def test_module_imports_without_laion_clap():
    code = ("import sys; sys.modules['laion_clap'] = None\n"
            "import dragon_nb.clap_adapters as m\n"
            "try: m.import_laion_clap()\n"
            "except ImportError as e: print('OK' if 'pip install --no-deps laion-clap' in str(e) else e)\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().endswith('OK'), out.stderr[-2000:]

def test_placeholder_tokenizer_is_refused():
    from transformers import RobertaTokenizer
    with pytest.raises(OSError, match='make_offline_hf_cache'): _check_tokenizer(RobertaTokenizer(), 'roberta-base', Path('x'))

def test_frozen_batchnorm_stub_matches_batchnorm():
    bn = torch.nn.BatchNorm2d(4).eval()
    for n in ('weight', 'bias', 'running_mean', 'running_var'): getattr(bn, n).data = torch.rand(4) + 0.5
    fb = _FrozenBatchNorm2d(4)
    fb.load_state_dict({n: getattr(bn, n).data for n in ('weight', 'bias', 'running_mean', 'running_var')})
    x = torch.randn(2, 4, 3, 5)
    torch.testing.assert_close(fb(x), bn(x))

@pytest.fixture(scope='module')
def laion(tmp):
    "A random HTSAT-tiny CLAP_Module built with no network, its checkpoint, and the encoder loaded from it."
    hf_home = make_offline_hf_cache(tmp/'hf')
    with mock.patch.object(socket.socket, 'connect', refuse_network), mock.patch.object(socket, 'create_connection', refuse_network):
        torch.manual_seed(0)
        ref = build_laion_clap('HTSAT-tiny', hf_home=hf_home)
        ckpt = tmp/'tiny.pt'
        torch.save({'state_dict': ref.model.state_dict()}, ckpt)
        enc = get_encoder('laion-clap', ckpt=str(ckpt), hf_home=str(hf_home))
    return dict(hf_home=hf_home, ref=ref, ckpt=ckpt, enc=enc)

@needs_laion
@pytest.mark.slow
def test_laion_clap_builds_offline_and_is_deterministic(laion):
    enc, a = laion['enc'], stereo_25s()
    assert isinstance(enc, LaionClapEncoder) and (enc.dim, enc.sample_rate, enc.win) == (512, 48000, 480000)
    e = enc.embed_audio(a, SR_IN)
    assert e.frames.shape == (2, 3, 512) and e.lengths.tolist() == [3, 3]      # 25 s -> 3 windows of 10 s
    torch.testing.assert_close(e.frames.norm(dim=-1), torch.ones(2, 3))
    torch.testing.assert_close(e.pooled.norm(dim=-1), torch.ones(2))
    assert torch.equal(enc.embed_audio(a, SR_IN).frames, e.frames)             # identical on a repeated call
    assert torch.equal(enc.embed_audio(a, SR_IN).pooled, e.pooled)
    t = enc.embed_text(CAPTIONS)
    assert t.frames.shape == (2, 1, 512)
    torch.testing.assert_close(t.pooled.norm(dim=-1), torch.ones(2))
    assert torch.equal(enc.embed_text(CAPTIONS).pooled, t.pooled)
    assert 'torchvision' not in sys.modules or importlib.util.find_spec('torchvision') is not None   # stub not left behind

@needs_laion
@pytest.mark.slow
def test_laion_checkpoint_round_trip_and_parity(laion):
    "Loaded weights reproduce the saved model; one 10 s window matches laion's own numpy path (which quantises)."
    enc, ref = laion['enc'], laion['ref']
    a = stereo_25s(1)
    torch.testing.assert_close(LaionClapEncoder(ref).embed_audio(a, SR_IN).frames, enc.embed_audio(a, SR_IN).frames)
    x = torch.randn(1, 1, 480000, generator=torch.Generator().manual_seed(5)) * 0.2
    own = enc.clap.get_audio_embedding_from_data(x=x[:, 0].numpy(), use_tensor=False)
    torch.testing.assert_close(enc.embed_audio(x, 48000).frames[0], torch.from_numpy(own), atol=1e-5, rtol=0)
    with torch.no_grad(): own_t = enc.clap.get_text_embedding(CAPTIONS, use_tensor=True)
    torch.testing.assert_close(enc.embed_text(CAPTIONS).pooled, own_t)

@needs_laion
@pytest.mark.slow
def test_laion_checkpoint_formats_and_mismatch(laion, tmp):
    "DDP 'module.' prefixes and the old position_ids buffer load; a wrong architecture fails with the fix."
    sd = {'module.' + k: v for k, v in laion['ref'].model.state_dict().items()}
    sd['module.text_branch.embeddings.position_ids'] = torch.arange(514)[None]
    old = tmp/'old-style.pt'
    torch.save({'epoch': 15, 'state_dict': sd}, old)
    assert laion_arch(read_laion_state(old)) == ('HTSAT-tiny', False)
    a = stereo_25s(1)
    e_old = get_encoder('laion-clap', ckpt=str(old), hf_home=str(laion['hf_home'])).embed_audio(a, SR_IN)
    torch.testing.assert_close(e_old.frames, laion['enc'].embed_audio(a, SR_IN).frames)
    with pytest.raises(RuntimeError, match='does not fit'):
        get_encoder('laion-clap', ckpt=str(laion['ckpt']), enable_fusion=True, hf_home=str(laion['hf_home']))

@needs_laion
def test_laion_errors(tmp):
    with pytest.raises(ValueError, match=r"ckpt='/path/music_audioset_epoch_15_esc_90.14.pt'"): get_encoder('laion-clap')
    with pytest.raises(FileNotFoundError, match='does not exist'): get_encoder('laion-clap', ckpt=str(tmp/'nope.pt'))
    import_laion_clap(make_offline_hf_cache(tmp/'hf-errors'))
    with pytest.raises(OSError, match='make_offline_hf_cache'): build_laion_clap(hf_home=tmp/'empty-hf-home')

def test_laion_checkpoints_load_weights_only(tmp_path):
    "issue 35: released checkpoints' numpy metadata loads without pickle fallback; anything else is refused, nothing runs."
    sd = {'module.audio_branch.patch_embed.proj.weight': torch.randn(96, 1, 4, 4)}
    released = tmp_path/'released-style.pt'     # the structure of a released file: epoch, numpy metrics, optimizer
    torch.save({'epoch': np.int64(15), 'metric': np.float64(0.9014), 'lr': np.array([1e-4]), 'dtype': np.dtype('float32'),
                'state_dict': sd, 'optimizer': {'state': {}, 'param_groups': [{'lr': 1e-4, 'betas': (0.9, 0.99)}]}}, released)
    got = read_laion_state(released)
    assert list(got) == ['audio_branch.patch_embed.proj.weight'] and torch.equal(got['audio_branch.patch_embed.proj.weight'], sd['module.audio_branch.patch_embed.proj.weight'])
    marker = tmp_path/'marker'
    torch.save({'state_dict': sd, 'extra': CodePayload(str(marker))}, tmp_path/'crafted.pt')
    with pytest.raises(ValueError, match=r"Refused to load the LAION-CLAP checkpoint '.*crafted.pt'.*re-save its weights"):
        read_laion_state(tmp_path/'crafted.pt')
    assert not marker.exists()
    (tmp_path/'damaged.pt').write_bytes(b'PK\x03\x04 truncated')
    with pytest.raises(ValueError, match='damaged'): read_laion_state(tmp_path/'damaged.pt')
