"""The built artefact: chunking, embedding, FAISS vectors, BM25, and versioned storage.

`store` writes complete versions and publishes them atomically (CURRENT), one writer at a
time (`locking`); `live` hands readers the current version and notices a newer one.
"""
