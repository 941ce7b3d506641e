// pcm-worklet.js — AudioWorklet processor: forwards the microphone's samples,
// mixed to mono, to the main thread in blocks of 2048 frames (at the context's rate).
class PcmCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(2048);
    this.fill = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      const frames = channels[0].length;
      for (let i = 0; i < frames; i++) {
        let s = 0;
        for (let c = 0; c < channels.length; c++) s += channels[c][i];
        this.block[this.fill++] = s / channels.length;
        if (this.fill === this.block.length) {
          this.port.postMessage(this.block.slice(0));
          this.fill = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor('pcm-capture', PcmCapture);
