"The README's main job writes audio, pictures, an HTML page and its config to a run folder, then fine-tunes with DRAGON."
import json, subprocess, sys
import soundfile as sf

def test_demo_writes_run_folder(root, tmp_path):
    out = tmp_path/'run'
    # the smoke preset and one round keep this quick; `make demo` runs the cpu preset with 8 rounds
    r = subprocess.run([sys.executable, '-m', 'dragon_nb.cli', 'demo', '--out', str(out), '--steps', '4',
                        '--prompt', 'a happy melody on bell', '--prompt', 'dark organ chords with drums',
                        '--preset', 'smoke', '--rounds', '1'],
                       cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    wavs, pngs = sorted((out/'samples').glob('*.wav')), sorted((out/'plots').glob('*.png'))
    assert len(wavs) == 2 and len(pngs) == 2
    x, sr = sf.read(wavs[0]); assert sr == 16000 and len(x) == 32768 and abs(x).max() > 0.01
    assert pngs[0].read_bytes()[:4] == b'\x89PNG'
    cfg = json.loads((out/'config.json').read_text()); assert cfg['steps'] == 4 and len(cfg['prompts']) == 2
    html = (out/'index.html').read_text()
    assert 'samples/00.wav' in html and 'dragon/samples/00_tuned.wav' in html and 'dragon/plots/reward_curve.png' in html
    res = json.loads((out/'result.json').read_text()); ev = json.loads((out/'dragon'/'eval.json').read_text())
    assert res['reward'] == 'aesthetics' and res['reward_after'] == ev['reward_after'] and 0 <= res['win_rate'] <= 1
    assert (out/'dragon'/'metrics.jsonl').read_text().count('\n') == 1
    assert str(out/'samples') in r.stdout and 'DRAGON toward aesthetics' in r.stdout
