"""What to label next: the model in the labelling loop.

Qt-free modules: ``candidates`` (which pictures), ``uncertainty`` (how unsure the
detector is), ``select`` (k-centre greedy batches, video grouping, random share),
``scoring`` + ``job`` (the background scoring child process), ``ranking`` (the
queue), ``suspects`` + ``folds`` (probable label errors), ``duplicates``
(near-duplicate groups), ``chain`` (keep training), ``cli``. Qt: ``controller``
(the Label next panel, key N, the browser order), ``prelabels`` (the model's
proposals on the canvas), ``retrain`` (keep training). Model code needing torch is
in ``training.active`` and runs in a child process, never on the window's threads.
"""
