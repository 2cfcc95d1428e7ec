"Package metadata comes from settings.ini (nbdev 2 convention)."
from configparser import ConfigParser
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
c = cfg['DEFAULT']
reqs = c.get('requirements', '').split()
dev_reqs = c.get('dev_requirements', '').split()

setuptools.setup(
    name=c['lib_name'], version=c['version'], description=c['description'],
    license='Apache-2.0', author=c['author'], author_email=c['author_email'],
    url=c['git_url'], packages=setuptools.find_packages(include=['dragon_nb', 'dragon_nb.*']),
    include_package_data=True, install_requires=reqs, extras_require={'dev': dev_reqs},
    python_requires=f">={c['min_python']}", zip_safe=False,
    long_description=open('README.md', encoding='utf-8').read(), long_description_content_type='text/markdown',
    keywords=c.get('keywords', '').split(), project_urls={'Documentation': c['doc_host'] + c['doc_baseurl']},
    classifiers=['Programming Language :: Python :: 3', 'License :: OSI Approved :: Apache Software License'],
    entry_points={'console_scripts': [], 'nbdev': [f"{c['lib_path']}={c['lib_path']}._modidx:d"]},
)
