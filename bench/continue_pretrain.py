"""Continued pretraining of the embedded default: does a base model trained longer make `clap-score` fine-tuning win more?

Starts the DiT and its EMA from the shipped (9k-step) EMA weights, with a fresh AdamW, a short warm-up and a cosine decay
(`pretrain.lr_at`), on the same toymusic latent dataset as `nbs/80_build_default.ipynb` (cached in data/cache). The
training draws come from `--noise-seed`. The result is a model folder for `--model` of `cli train` and of
`bench/prompt_adherence.py`. The run resumes from `OUT/ckpt.pt` when interrupted (`pretrain` checkpoints every 500 steps).

    python bench/continue_pretrain.py OUT [--steps 8000] [--lr 3e-4] [--warmup 200] [--threads 2] [--noise-seed 12345]

Session 14 (CPU, 2 threads): 8000 steps in 2637 s; loss EMA 0.228 -> 0.219. See bench/results/clap_continued.json.
"""
import argparse, json
from pathlib import Path
import torch
from dragon_nb.pretrain import PretrainConfig, pretrain, build_latent_dataset
from dragon_nb.model import load_pipeline

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out'); ap.add_argument('--steps', type=int, default=8000); ap.add_argument('--lr', type=float, default=3e-4)
    ap.add_argument('--warmup', type=int, default=200); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--noise-seed', type=int, default=12345)
    a = ap.parse_args(); out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    cfg = PretrainConfig.design('v1', steps=a.steps, lr=a.lr, warmup=a.warmup, threads=a.threads)
    base = load_pipeline('default-v1')                                   # the v1 study; its codec and MiniLM serve the run too (one load)
    data = build_latent_dataset(PretrainConfig.design('v1'), base.codec, base.conditioner)   # the shipped model's data (same codec statistics)
    if not (out/'ckpt.pt').exists():      # step 0 in `pretrain`'s checkpoint format: shipped EMA weights, fresh optimizer
        opt = torch.optim.AdamW(base.transformer.parameters(), lr=a.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
        sd = base.transformer.state_dict()
        torch.save(dict(model=sd, ema=sd, opt=opt.state_dict(), gen=torch.Generator().manual_seed(a.noise_seed).get_state(),
                        step=0, seconds=0.0), out/'ckpt.pt')
    pipe = pretrain(cfg, out, data=data, codec=base.codec, conditioner=base.conditioner)
    pipe.info.update(continued_from='embedded default (9000 steps)', noise_seed=a.noise_seed)
    pipe.save_pretrained(out/'model')
    print(json.dumps(dict(model=str(out/'model'), steps=a.steps, seconds=pipe.info['seconds'], final_loss_ema=pipe.info['final_loss_ema'])))

if __name__ == '__main__': main()
