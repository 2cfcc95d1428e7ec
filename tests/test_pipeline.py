"The embedded default and the Stable Audio adapter: determinism, shapes, bad input, diffusers parity."
import tempfile
from pathlib import Path
import numpy as np, pytest, torch, soundfile as sf
from dragon_nb import load_pipeline
from dragon_nb.audio import load_audio
from dragon_nb.testing import tiny_stable_audio_pipeline

P = ['a happy melody on marimba in a high register, fast tempo, with drums', 'a sad tune on organ, low, slow, no drums']

def test_default_generates_deterministically(default_pipe):
    a = default_pipe(P, seed=3, steps=4, progress=False)
    b = default_pipe(P[::-1], seeds=[4, 3], steps=4, progress=False)
    assert a.audio.shape == (2, 1, 32768) and a.sample_rate == 16000 and a.latents.shape == (2, 64, 128)   # the log-mel image: 64 bins x 128 frames
    assert torch.isfinite(a.audio).all() and a.audio.abs().max() <= 1
    torch.testing.assert_close(a.latents[0], b.latents[1], atol=1e-4, rtol=0)   # same prompt and seed, other batch
    assert not torch.allclose(a.latents[0], a.latents[1])

def test_shipped_weights_record_provenance():
    import json
    from dragon_nb.model import default_model_dir
    info = json.loads((default_model_dir()/'dragon_pipeline.json').read_text())['info']
    assert info['steps'] > 0 and info['config']['seed'] == 0 and info['git_commit'] != ''
    total = sum(f.stat().st_size for f in default_model_dir().rglob('*') if f.is_file())
    assert total < 15e6

@pytest.mark.parametrize('kwargs,msg', [
    (dict(prompts=[]), 'empty'), (dict(prompts=['ok', 42]), 'prompts[1] is a int'), (dict(prompts=None), 'must be a string or a list'),
    (dict(steps=0), 'steps must be an integer >= 2'), (dict(steps=1), 'one solver step returns the starting noise'), (dict(steps=-3), 'steps'), (dict(steps=2.5), 'steps'),
    (dict(duration=60.0), 'up to 2.048'), (dict(duration=0), 'Unsupported duration'), (dict(k=0), 'k must be'),
    (dict(seeds=[1, 2, 3]), 'seeds has 3 entries'), (dict(output='wav'), "output must be 'audio' or 'latent'")])
def test_bad_generation_requests(default_pipe, kwargs, msg):
    kw = dict(prompts=P, steps=2, progress=False); kw.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=msg.replace('[', r'\[').replace(']', r'\]')):
        default_pipe(kw.pop('prompts'), **kw)

def test_bad_model_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'): load_pipeline(tmp_path/'missing')
    (tmp_path/'f.txt').write_text('x')
    with pytest.raises(ValueError, match='is a file'): load_pipeline(tmp_path/'f.txt')
    with pytest.raises(ValueError, match='not a model folder'): load_pipeline(tmp_path)
    (tmp_path/'model_index.json').write_text('{"_class_name": "StableDiffusionPipeline"}')
    with pytest.raises(ValueError, match='only StableAudioPipeline'): load_pipeline(tmp_path)

def test_bad_audio_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.wav'): load_audio(tmp_path/'nope.wav')
    (tmp_path/'corrupt.wav').write_bytes(b'RIFF\x00\x00\x00\x00WAVEjunkjunk')
    with pytest.raises(ValueError, match='corrupt.wav.*re-export'): load_audio(tmp_path/'corrupt.wav')
    (tmp_path/'text.flac').write_text('not audio at all')
    with pytest.raises(ValueError, match='text.flac'): load_audio(tmp_path/'text.flac')
    sf.write(tmp_path/'empty.wav', np.zeros((0, 2), 'float32'), 44100)
    with pytest.raises(ValueError, match='empty'): load_audio(tmp_path/'empty.wav')

@pytest.mark.parametrize('k,steps,dur,guid', [(1, 5, 0.1, 7.0), (2, 8, 0.128, 3.0), (1, 4, 0.05, 1.0)])
def test_sampler_matches_diffusers_stable_audio(tmp_path, k, steps, dur, guid):
    sao = tiny_stable_audio_pipeline(seed=1)
    prompts = ['a sad melody on bell', 'fast organ with drums']
    seeds = list(range(10, 10 + len(prompts) * k))
    ref = sao(prompts, num_inference_steps=steps, guidance_scale=guid, audio_end_in_s=dur, num_waveforms_per_prompt=k,
              generator=[torch.Generator().manual_seed(s) for s in seeds]).audios
    sao.save_pretrained(tmp_path)
    ours = load_pipeline(tmp_path)(prompts, k=k, seeds=seeds, steps=steps, guidance=guid, duration=dur, progress=False)
    assert ours.audio.shape == ref.shape
    torch.testing.assert_close(ours.audio, ref, atol=1e-5, rtol=0)
