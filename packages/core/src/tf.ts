// The single TensorFlow.js instance every deepline package uses.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// In Node, tfjs-core's bundle registers no gradients at all; tfjs-layers' Node bundle
// registers every gradient tfjs-core defines, so training works on any backend.
import '@tensorflow/tfjs-layers';

export { tf };
