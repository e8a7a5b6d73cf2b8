"""One text toolkit: markdown blocks -> sentence units with offsets, words and stop words, [n] markers.

Every module that splits, tokenises or looks for citation markers uses these, so that retrieval,
the answer, its checks and the evaluation all agree on what a word and a sentence are.
"""
