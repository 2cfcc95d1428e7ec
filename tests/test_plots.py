"""The PNG writers draw with matplotlib's Figure, not pyplot: they switch no backend and leave no open figure, so a
notebook's inline plots keep working after a run writes its plots."""
import matplotlib, torch
import matplotlib.pyplot as plt
from dragon_nb.audio import save_spectrogram
from dragon_nb.evaluate import plot_curve
from dragon_nb.sweep import radar_plot, vendi_by_type_plot

def test_plot_writers_keep_the_backend(tmp_path):
    old = matplotlib.get_backend(); matplotlib.use('svg')          # any backend but Agg, which they used to force
    try:
        open_before = plt.get_fignums()
        save_spectrogram(tmp_path/'spec.png', 0.1 * torch.randn(1, 16000), 16000, 'noise')
        plot_curve([dict(round=1, reward_mean=1.0, loss=0.7), dict(round=2, reward_mean=1.2, loss=0.6)], tmp_path/'curve.png', 'r')
        rows = [{'reward': f'r{i}', 'win_rate': 0.5 + 0.1 * i, 'type': 'instance', 'vendi-clap': 7.0, 'vendi-clap (before)': 7.2}
                for i in range(3)]
        radar_plot(rows, tmp_path/'radar.png'); vendi_by_type_plot(rows, tmp_path/'vendi.png')
        assert matplotlib.get_backend() == 'svg'
        assert plt.get_fignums() == open_before
        for f in ('spec', 'curve', 'radar', 'vendi'): assert (tmp_path/f'{f}.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    finally: matplotlib.use(old)
