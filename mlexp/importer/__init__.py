"""`mlexp import PATH`: a Keras notebook or script becomes mlexp experiments, without running it.

The code is read with Python's `ast` (mlexp.importer.source, reader); each training (a model, its compile
and its fit) becomes an experiment (mapping), repeated trainings that change the same keys a sweep (plan);
configs, copied code and a report are written into a project's conf/ (writer, report); `command` is the
verb. No TensorFlow.
"""
