"""The generation core: spectrogram codecs, model loading and the joint sampler. Knows nothing of OSC or DAWs."""
