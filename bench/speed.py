"""Generation speed on this machine, ours and diffusers' StableAudioPipeline measured in the same run.

A. End to end, batch 16 at 20 steps: the first embedded default (`default-v1`: MiniLM + DiT + mel codec; the current
   default's UNet has no StableAudioPipeline counterpart) vs a diffusers
   StableAudioPipeline assembled with a DiT of the identical configuration, the same scheduler settings,
   a tiny T5 text encoder and an Oobleck VAE producing the same latent shape (128 x 64 frames, 16 kHz mono).
B. Sampler only: our sampler driving StableAudioPipeline's own components vs StableAudioPipeline.__call__
   (same components, seeds and settings; also checks the outputs agree).
Reports the median of --reps repeats and the ratio ours/theirs in clips per second.

    python bench/speed.py [--reps 3] [--device cuda] [--out bench/results/speed.json]
"""
import argparse, json, time, statistics, tempfile
from pathlib import Path
import torch
from transformers import T5Config, T5EncoderModel
from diffusers import StableAudioPipeline, StableAudioDiTModel, AutoencoderOobleck
from diffusers.pipelines.stable_audio.modeling_stable_audio import StableAudioProjectionModel
from dragon_nb.model import load_pipeline, DragonPipeline, StableAudioConditioner, OobleckCodec
from dragon_nb.testing import tiny_t5_tokenizer

def sync():
    if torch.cuda.is_available(): torch.cuda.synchronize()

def timed(fn, reps):
    ts = []
    for _ in range(reps):
        sync(); t = time.perf_counter(); fn(); sync(); ts.append(time.perf_counter() - t)
    return statistics.median(ts), ts

def sao_like(ours: DragonPipeline):
    "StableAudioPipeline with a DiT of the same config as ours and a VAE giving the same latent shape."
    c = dict(ours.transformer.config)
    cond_dim = c['cross_attention_input_dim']
    dit = StableAudioDiTModel(**{**{k: c[k] for k in ('sample_size', 'in_channels', 'num_layers', 'attention_head_dim',
                              'num_attention_heads', 'num_key_value_attention_heads', 'out_channels', 'cross_attention_dim',
                              'time_proj_dim', 'cross_attention_input_dim')}, 'global_states_input_dim': 2 * cond_dim})
    tok = tiny_t5_tokenizer(max_length=32)
    te = T5EncoderModel(T5Config(vocab_size=len(tok), d_model=384, d_kv=32, d_ff=1536, num_layers=6, num_heads=12,
                                 pad_token_id=0, eos_token_id=1, decoder_start_token_id=0))   # MiniLM-sized
    proj = StableAudioProjectionModel(text_encoder_dim=384, conditioning_dim=cond_dim, min_value=0, max_value=64)
    vae = AutoencoderOobleck(encoder_hidden_size=2 * c['in_channels'], downsampling_ratios=[2, 4, 8, 8], channel_multiples=[1, 2, 2, 2],
                             decoder_channels=16, decoder_input_channels=c['in_channels'], audio_channels=1, sampling_rate=16000)
    return StableAudioPipeline(vae=vae, text_encoder=te, projection_model=proj, tokenizer=tok, transformer=dit,
                               scheduler=type(ours.scheduler).from_config(ours.scheduler.config)).to(torch.float32)

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--reps', type=int, default=3); ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--steps', type=int, default=20); ap.add_argument('--out', default='bench/results/speed.json')
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda': both pipelines run there")
    a = ap.parse_args(); B, S = a.batch, a.steps
    prompts = [f'a {m} melody on {i} with drums' for m in ('happy', 'sad') for i in ('bell', 'organ', 'marimba', 'soft pad')] * (B // 8 + 1)
    prompts = prompts[:B]
    torch.set_num_threads(torch.get_num_threads())
    ours = load_pipeline('default-v1')         # a StableAudioDiTModel, so StableAudioPipeline can run the same denoiser
    sao = sao_like(ours).to(a.device); ours = ours.to(a.device)
    dur = ours.max_duration
    res = dict(batch=B, steps=S, threads=torch.get_num_threads(), torch=torch.__version__, device=a.device,
               gpu=torch.cuda.get_device_name() if a.device.startswith('cuda') else None)
    ours(prompts[:2], steps=2, progress=False); sao(prompts[:2], num_inference_steps=2, audio_end_in_s=dur)   # warm-up
    t_ours, _ = timed(lambda: ours(prompts, steps=S, seed=0, progress=False), a.reps)
    t_fast, _ = timed(lambda: ours(prompts, steps=S, seed=0, progress=False, noise='gaussian'), a.reps)
    gens = lambda: [torch.Generator().manual_seed(i) for i in range(B)]
    t_sao, _ = timed(lambda: sao(prompts, num_inference_steps=S, guidance_scale=ours.guidance, audio_end_in_s=dur, generator=gens()), a.reps)
    res['A_end_to_end'] = dict(ours_clips_per_s=round(B / t_ours, 2), ours_gaussian_noise_clips_per_s=round(B / t_fast, 2),
                               diffusers_clips_per_s=round(B / t_sao, 2), ratio=round(t_sao / t_ours, 2),
                               ratio_gaussian_noise=round(t_sao / t_fast, 2), ours_s=round(t_ours, 2), diffusers_s=round(t_sao, 2))
    print(f"A end-to-end B{B} x {S} steps: ours {B / t_ours:.2f} clips/s (Gaussian-increment noise: {B / t_fast:.2f}), "
          f"StableAudioPipeline {B / t_sao:.2f} clips/s, ratio {t_sao / t_ours:.2f}x ({t_sao / t_fast:.2f}x)")
    # B: identical components through our sampler and through diffusers' pipeline
    with tempfile.TemporaryDirectory() as d:
        sao.save_pretrained(d); mine = load_pipeline(d, device=a.device)
    t_mine, _ = timed(lambda: mine(prompts, seeds=list(range(B)), steps=S, guidance=7.0, duration=dur, progress=False), a.reps)
    t_ref, _ = timed(lambda: sao(prompts, num_inference_steps=S, guidance_scale=7.0, audio_end_in_s=dur, generator=gens()), a.reps)
    x1 = mine(prompts[:4], seeds=[0, 1, 2, 3], steps=S, guidance=7.0, duration=dur, progress=False).audio
    x2 = sao(prompts[:4], num_inference_steps=S, guidance_scale=7.0, audio_end_in_s=dur, generator=[torch.Generator().manual_seed(i) for i in range(4)]).audios
    res['B_same_components'] = dict(ours_clips_per_s=round(B / t_mine, 2), diffusers_clips_per_s=round(B / t_ref, 2),
                                    ratio=round(t_ref / t_mine, 2), max_abs_diff=float((x1.cpu() - x2.cpu()).abs().max()))
    print(f"B same components: ours {B / t_mine:.2f} clips/s, StableAudioPipeline {B / t_ref:.2f} clips/s, ratio {t_ref / t_mine:.2f}x, "
          f"max |diff| {res['B_same_components']['max_abs_diff']:.2e}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=2)); print('wrote', a.out)

if __name__ == '__main__': main()
