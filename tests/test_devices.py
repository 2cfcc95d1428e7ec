"""Device paths: each test runs on the CPU everywhere and on CUDA where torch sees a device (the `cuda` cases are
marked `gpu` and skipped on CI and the 2-core CPU machine). Run on an H100 (torch 2.11.0+cu130) on 2026-11-22: 8 passed;
that run found the 'vae' reference-statistics bug the last test guards (CPU exemplar audio, codec on CUDA)."""
import json
import pytest, torch

DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.gpu)]

@pytest.mark.parametrize('dev', DEVICES)
def test_pretrain_on_a_device_follows_the_cpu_run(tmp_path, dev):
    from dragon_nb.model import MelCodec, minilm
    from dragon_nb.pretrain import PretrainConfig, pretrain, build_latent_dataset
    cfg = PretrainConfig(n_clips=24, steps=4, batch_size=4, warmup=2, ckpt_every=2, log_every=1, workers=1, layers=1, heads=2)
    codec, cond = MelCodec(), minilm()
    data = build_latent_dataset(cfg, codec, cond, cache_dir=tmp_path)
    losses = {}
    for tag, d in (('ref', 'cpu'), ('dev', dev)):
        pipe = pretrain(cfg, tmp_path/tag, data=data, codec=codec, conditioner=cond, progress=False, device=d)
        assert pipe.device.type == 'cpu' and pipe.info['device'].startswith(d)
        losses[tag] = [json.loads(l)['loss'] for l in open(tmp_path/tag/'metrics.jsonl')]
    assert losses['dev'][0] == pytest.approx(losses['ref'][0], rel=1e-3)       # same batch, timesteps and noise
    pretrain(PretrainConfig(**{**cfg.__dict__, 'steps': 6}), tmp_path/'dev', data=data, codec=codec, conditioner=cond,
             progress=False, device=dev)                                        # resumes the device's checkpoint
    assert len(open(tmp_path/'dev'/'metrics.jsonl').readlines()) == 6

@pytest.mark.parametrize('dev', DEVICES)
def test_reward_math_on_a_device_matches_cpu(dev):
    from dragon_nb.metrics import GaussianStats, per_song_fd, dataset_fd, vendi_score
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(600, 64, generator=g, dtype=torch.float64) * torch.arange(1, 65) ** -0.75
    x = ref[:8, None] + 0.3 * torch.randn(8, 16, 64, generator=g, dtype=torch.float64)
    r_cpu, r_gpu = GaussianStats.from_embeddings(ref), GaussianStats.from_embeddings(ref.to(dev))
    for prec, tol in (('float64', 1e-9), ('mixed', 1e-6)):
        a, b = per_song_fd(x, r_cpu, precision=prec), per_song_fd(x.to(dev), r_gpu, precision=prec).cpu()
        torch.testing.assert_close(b, a, rtol=tol, atol=0)
    assert dataset_fd(x.to(dev), r_gpu) == pytest.approx(dataset_fd(x, r_cpu), rel=1e-9)
    assert vendi_score(x[:, 0].to(dev)) == pytest.approx(vendi_score(x[:, 0]), rel=1e-9)

@pytest.mark.parametrize('dev', DEVICES)
def test_dragon_round_on_a_device(tmp_path, dev):
    from dragon_nb.train import DragonConfig, DragonTrainer
    from dragon_nb.model import load_pipeline
    cfg = DragonConfig(reward='aesthetics', rounds=1, prompts_per_round=2, k=2, demo_steps=2, eval_prompts=2, eval_steps=2,
                       run_dir=str(tmp_path/'run'), device=dev)
    tr = DragonTrainer(cfg, pipe=load_pipeline(device=dev), progress=False)
    tr.fit()
    rows = [json.loads(l) for l in open(tmp_path/'run'/'metrics.jsonl')]
    assert len(rows) == 1 and rows[0]['n_demos'] > 0 and torch.isfinite(torch.tensor(rows[0]['loss']))
    assert 0 <= json.loads((tmp_path/'run'/'eval.json').read_text())['win_rate'] <= 1

@pytest.mark.parametrize('dev', DEVICES)
def test_codec_reference_stats_with_the_pipeline_on_a_device(tmp_path, dev):
    "The 'vae' encoder embeds CPU audio (exemplar sets) with a codec that moved with the pipeline; no cache is used here."
    from dragon_nb.model import load_pipeline
    from dragon_nb.encoders import CodecEncoder
    from dragon_nb.exemplars import ExemplarSet, refstats
    es = ExemplarSet(name='tiny', kind='audio', toymusic=dict(n=6, seed=3, split='all', choices={}))
    ref = refstats(es, CodecEncoder(load_pipeline()), cache_dir=tmp_path/'cpu')
    got = refstats(es, CodecEncoder(load_pipeline(device=dev)), cache_dir=tmp_path/dev)
    assert (tmp_path/dev).exists() and got.stats.mean.device.type == 'cpu'
    torch.testing.assert_close(got.stats.mean, ref.stats.mean, rtol=1e-4, atol=1e-4)
