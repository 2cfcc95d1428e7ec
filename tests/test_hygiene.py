"Notebooks stay light and clean; settings keep papermill's parameters tag; README mirrors index.ipynb."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import parameters_cell

HEAVY = ('audio/', 'application/vnd.jupyter.widget', 'application/vnd.plotly')

def notebooks(root): return sorted((root/'nbs').glob('*.ipynb'))

def test_notebooks_are_light(root):
    assert notebooks(root), 'no notebooks found'
    for nb in notebooks(root):
        assert nb.stat().st_size < 400_000, f'{nb.name} is {nb.stat().st_size} bytes: clear heavy outputs'
        d = json.loads(nb.read_text())
        assert 'widgets' not in d.get('metadata', {}), f'{nb.name} saves widget state'
        for c in d['cells']:
            for o in c.get('outputs', []):
                bad = [m for m in o.get('data', {}) if m.startswith(HEAVY)]
                assert not bad, f'{nb.name}: saved output of type {bad} (no audio, widgets or plotly JSON in committed notebooks)'

def test_library_notebooks_follow_anatomy(root):
    for nb in notebooks(root):
        d = json.loads(nb.read_text()); src = [''.join(c['source']) for c in d['cells']]
        assert d['cells'][0]['cell_type'] == 'markdown' and src[0].startswith('# '), f'{nb.name}: first cell must be an H1 title'
        assert '\n> ' in src[0], f'{nb.name}: title cell needs a "> summary" line'

def test_settings_keep_tags(root):
    ini = (root/'settings.ini').read_text()
    assert 'allowed_cell_metadata_keys = tags' in ini

def test_nbdev_clean_keeps_parameters_tag(root, tmp_path):
    nb = dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
        dict(cell_type='code', id='a1', metadata={'tags': ['parameters'], 'scrolled': True}, execution_count=3,
             source=["reward = 'clap'"], outputs=[])])
    p = root/'nbs'/f'_tmp_clean_{tmp_path.name}.ipynb'
    p.write_text(json.dumps(nb))
    try:
        subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(p)], cwd=root, check=True)
        c = json.loads(p.read_text())['cells'][0]
        assert c['metadata'].get('tags') == ['parameters'], c['metadata']
        assert 'scrolled' not in c['metadata'] and c['execution_count'] is None
    finally: p.unlink()

def test_papermill_lists_every_parameter(root):
    "`papermill --help-notebook` shows every name the parameters cell assigns (papermill skips a line it cannot parse)."
    import ast, papermill
    cells = {nb: parameters_cell(json.loads(nb.read_text())) for nb in notebooks(root)}
    cells = {nb: c for nb, c in cells.items() if c is not None}
    assert {nb.name for nb in cells} >= {'train.ipynb', 'explore.ipynb'}, cells
    for nb, cell in cells.items():
        assigned = [n.target.id for n in ast.parse(''.join(cell['source'])).body if isinstance(n, ast.AnnAssign)]
        assert assigned, f'{nb.name}: the parameters cell assigns nothing with a type annotation'
        listed = list(papermill.inspect_notebook(str(nb)))
        assert listed == assigned, f'{nb.name}: papermill lists {sorted(set(assigned) - set(listed))} as missing: a comment with "=" in it?'

def test_readme_in_sync_with_index(root):
    r = subprocess.run([sys.executable, '-m', 'dragon_nb.cli', 'readme', '--check'], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
