"""The workbench in a real browser: JupyterLab on 127.0.0.1 driven by Debian Chromium through Playwright.

Runs a temporary copy of nbs/explore.ipynb (smoke parameters) with a private data folder ($DRAGON_DATA), then
adds an item to the exemplar set through the widget, waits for the UMAP figure, clicks a point, votes in the
listening panel, and screenshots each step into an artifacts folder (printed; `DRAGON_ARTIFACTS` picks it).
Also screenshots the offline docs. Nothing is written to the repository (except content-addressed reference
statistics in the gitignored data/cache/refstats, shared as every test does); the server is stopped at the end.
Needs: `apt-get install -y chromium` (never `playwright install`), the Python `playwright` package, the shipped
model weights. Run: `pytest -m browser tests/test_browser.py -s`.
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request, uuid
from pathlib import Path
import pytest
from conftest import parameters_cell

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get('DRAGON_CHROMIUM', '/usr/bin/chromium')
CHROME_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
               '--disable-sync', '--no-first-run', '--disable-quic', '--mute-audio']
# smoke settings for the notebook's parameters cell (papermill-style: the defaults are replaced by these)
PARAMS = dict(encoder='clap', set_name='explore-set', n_preview=4, steps=8, map_method='umap', rounds=1,
              eval_prompts=4, eval_steps=8, run_dir='', tiny=False)


def _need(models: bool = False):
    if not Path(CHROMIUM).exists(): pytest.skip(f'{CHROMIUM} not found: apt-get update && apt-get install -y chromium')
    pytest.importorskip('playwright.sync_api', reason='pip install playwright (the browser comes from Debian, not playwright install)')
    for m in ('default', 'clap', 'aesthetics') if models else ():
        if not (ROOT/'data'/'models'/m).exists(): pytest.skip(f'data/models/{m} missing: the workbench runs the shipped models')


def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _notebook_copy(dst: Path):
    "nbs/explore.ipynb with the parameters cell replaced by PARAMS."
    nb = json.loads((ROOT/'nbs'/'explore.ipynb').read_text())
    cell = parameters_cell(nb)
    cell['source'] = [f'{k} = {v!r}\n' for k, v in PARAMS.items()]
    dst.write_text(json.dumps(nb))


@pytest.fixture(scope='module')
def artifacts():
    d = Path(os.environ.get('DRAGON_ARTIFACTS') or tempfile.mkdtemp(prefix='dragon-browser-'))
    d.mkdir(parents=True, exist_ok=True)
    print(f'\nbrowser test artifacts (screenshots, server log): {d}')
    return d


@pytest.fixture(scope='module')
def lab(artifacts):
    "JupyterLab on a free port with a token, a private data folder and private Jupyter config/settings dirs."
    _need(models=True)
    tmp = Path(tempfile.mkdtemp(prefix='dragon-lab-'))
    data, nbdir, home = tmp/'data', tmp/'nb', tmp/'jupyter'
    (data/'cache').mkdir(parents=True); nbdir.mkdir(); home.mkdir()
    (data/'models').symlink_to(ROOT/'data'/'models')                          # read-only use of the shipped weights
    (data/'refstats').symlink_to(ROOT/'data'/'refstats')                      # and of the shipped reference statistics
    shutil.copytree(ROOT/'data'/'exemplars', data/'exemplars')
    # statistics of other sets (the notebook's own) are content-addressed and gitignored (data/cache/): share them too
    (ROOT/'data'/'cache'/'refstats').mkdir(parents=True, exist_ok=True)
    (data/'cache'/'refstats').symlink_to(ROOT/'data'/'cache'/'refstats')
    _notebook_copy(nbdir/'explore.ipynb')
    (home/'config'/'labconfig').mkdir(parents=True)
    (home/'config'/'labconfig'/'page_config.json').write_text(json.dumps(
        {'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True}}))
    st = home/'settings'/'@jupyterlab'/'notebook-extension'; st.mkdir(parents=True)
    (st/'tracker.jupyterlab-settings').write_text(json.dumps({'windowingMode': 'none'}))    # every cell in the DOM
    token, port = uuid.uuid4().hex, _free_port()
    env = dict(os.environ, DRAGON_DATA=str(data), DRAGON_RUNS=str(data/'runs'), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1',
               TOKENIZERS_PARALLELISM='false', OPENBLAS_NUM_THREADS='1', JUPYTER_CONFIG_DIR=str(home/'config'),
               JUPYTERLAB_SETTINGS_DIR=str(home/'settings'),
               JUPYTERLAB_WORKSPACES_DIR=str(home/'workspaces'), JUPYTER_RUNTIME_DIR=str(home/'runtime'), IPYTHONDIR=str(home/'ipython'),
               MPLBACKEND='Agg')
    log = open(artifacts/'jupyterlab.log', 'w')
    cmd = [str(Path(sys.executable).parent/'jupyter-lab'), '--no-browser', '--allow-root', '--ip=127.0.0.1', f'--port={port}',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={nbdir}', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--LabApp.extension_manager=readonly',
           '--LabApp.expose_app_in_browser=True']
    proc = subprocess.Popen(cmd, cwd=nbdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    try:
        t0 = time.time()
        while True:
            try:
                if urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2).status == 200: break
            except OSError: pass
            if proc.poll() is not None or time.time() - t0 > 90:
                pytest.fail(f'JupyterLab did not start (exit {proc.poll()}); log: {artifacts/"jupyterlab.log"}')
            time.sleep(0.5)
        yield dict(url=url, token=token, data=data, nbdir=nbdir, tmp=tmp, started=time.time() - t0)
    finally:
        try: os.killpg(proc.pid, signal.SIGTERM)                             # the server and its kernels (our process group)
        except ProcessLookupError: pass
        try: proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL); proc.wait(5)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope='module')
def browser():
    _need()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        try: yield b
        finally: b.close()


def _run_all(page, lab, artifacts, attempt):
    "Open the notebook, run all cells and wait until the last widget is drawn and the kernel is idle."
    page.goto(f"{lab['url']}/lab/tree/explore.ipynb?token={lab['token']}")
    page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=90_000)
    page.wait_for_function("""() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
        const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
        return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""", timeout=120_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")   # not awaited: returns at once
    failed = """() => [...document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
                      .some(e => e.innerText.includes('Traceback'))"""
    page.wait_for_function(f"() => document.querySelector('.dragon-listening') || ({failed})()", timeout=240_000)
    if page.evaluate(failed):                                                        # a cell failed: no point retrying
        page.screenshot(path=str(artifacts/'00_cell_failed.png'), full_page=True)
        tb = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
        pytest.fail('a notebook cell failed:\n' + '\n'.join(t for t in tb if 'Traceback' in t)[-4000:])
    page.wait_for_function("() => !document.querySelector('.jp-Notebook').innerText.includes('[*]')", timeout=60_000)
    page.screenshot(path=str(artifacts/f'01_notebook_ran{"_retry" if attempt else ""}.png'))


def test_explore_workbench(lab, browser, artifacts):
    from playwright.sync_api import expect, TimeoutError as PWTimeout
    t0 = time.time()
    nb_before = (ROOT/'nbs'/'explore.ipynb').read_bytes()
    page = browser.new_page(viewport={'width': 1400, 'height': 1000})
    page.set_default_timeout(30_000)
    for attempt in (0, 1):                                                          # one retry: a cold first start can be slow
        try: _run_all(page, lab, artifacts, attempt); break
        except PWTimeout:
            page.screenshot(path=str(artifacts/f'00_timeout_attempt{attempt}.png'))
            if attempt: raise
    nb = page.locator('.jp-Notebook')
    errors = nb.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
    assert not any('Traceback' in e or 'Error' in e.split('\n')[0] for e in errors), '\n'.join(errors)[-3000:]
    t_run = time.time() - t0

    # 1. add an item to the exemplar set through the widget, then save (the name exists: confirm overwriting)
    b = page.locator('.dragon-builder')
    b.scroll_into_view_if_needed()
    expect(b).to_contain_text('Set size: 8 items')
    b.locator('.dragon-candidate').nth(8).locator('input[type=checkbox]').check()
    expect(b).to_contain_text('Set size: 9 items')
    expect(b).to_contain_text('Reward preview')
    b.get_by_role('button', name='Save set').click()
    expect(b).to_contain_text('already exists. Overwrite it?')
    b.screenshot(path=str(artifacts/'02_builder_confirm_overwrite.png'))
    b.get_by_role('button', name='Overwrite').click()
    expect(b).to_contain_text('Saved 9 items')
    b.screenshot(path=str(artifacts/'03_builder_saved.png'))
    manifest = json.loads((lab['data']/'exemplars'/'explore-set.json').read_text())
    assert len(manifest['items']) == 9

    # 2. the UMAP figure renders; clicking a point plays it
    m = page.locator('.dragon-map').first
    m.scroll_into_view_if_needed()
    expect(m.locator('.js-plotly-plot')).to_be_visible(timeout=60_000)
    expect(m.locator('.gtitle')).to_contain_text('UMAP of 12 embeddings')
    pts = m.locator('.scatterlayer .trace .points path')
    assert pts.count() == 12
    pts.nth(0).click(force=True)
    expect(m).not_to_contain_text('click a point to play it', timeout=20_000)
    m.screenshot(path=str(artifacts/'04_umap_clicked.png'))
    after = page.locator('.dragon-map').nth(1)
    after.scroll_into_view_if_needed()
    expect(after.locator('.gtitle')).to_contain_text('UMAP of')
    after.screenshot(path=str(artifacts/'05_umap_after_run.png'))

    # 3. the listening panel records a vote by button and one by key
    lp = page.locator('.dragon-listening')
    lp.scroll_into_view_if_needed()
    expect(lp).to_contain_text('Pair 1 of 4')
    lp.get_by_role('button', name=re.compile('A is better')).click()
    expect(lp).to_contain_text('of 1 votes')
    lp.locator('input[type=text]').click(); page.keyboard.press('b')
    expect(lp).to_contain_text('of 2 votes')
    expect(lp).to_contain_text('Pair 3 of 4')
    lp.screenshot(path=str(artifacts/'06_listening_voted.png'))
    votes = [json.loads(l) for f in (lab['data']/'runs').glob('*/votes.jsonl') for l in f.read_text().splitlines()]
    assert [v['choice'] for v in votes] == ['A', 'B'] and all(v['preferred'] in ('base', 'tuned') for v in votes)
    cell = page.locator('.jp-Cell', has_text='run folder:').last
    cell.scroll_into_view_if_needed(); cell.screenshot(path=str(artifacts/'07_run_cell.png'))

    assert (ROOT/'nbs'/'explore.ipynb').read_bytes() == nb_before                   # the repository's notebook is untouched
    assert not (ROOT/'data'/'exemplars'/'explore-set.json').exists()
    print(f"JupyterLab up in {lab['started']:.1f} s; notebook ran in {t_run:.0f} s; whole test {time.time() - t0:.0f} s")
    page.close()


def test_offline_docs(browser, artifacts, tmp_path):
    "The offline docs: every notebook has a page; the home page and an API page render without network."
    from dragon_nb.docs import build_docs
    t0 = time.time()
    idx = build_docs(tmp_path/'site')
    t_build = time.time() - t0
    pages = {p.stem for p in (tmp_path/'site').glob('*.html')}
    assert {p.stem for p in (ROOT/'nbs').glob('*.ipynb')} - {'index'} <= pages and 'index' in pages
    page = browser.new_page(viewport={'width': 1300, 'height': 900})
    remote = []
    page.on('request', lambda r: remote.append(r.url) if not r.url.startswith(('file:', 'data:')) else None)
    page.goto(idx.as_uri())
    assert page.locator('nav > a').count() == len(pages)
    page.screenshot(path=str(artifacts/'08_docs_home.png'))
    page.locator('nav > a', has_text='viz').first.click()
    page.wait_for_selector('.api')
    assert 'embedding_map' in page.locator('.api').inner_text()
    page.screenshot(path=str(artifacts/'09_docs_api_viz.png'))
    assert not remote, remote
    print(f'offline docs: {len(pages)} pages in {t_build:.1f} s')
    page.close()
