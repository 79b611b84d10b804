/** The training benchmark's model and batch (identical in torch/train_bench.py). */
export interface TrainBenchConfig {
  vocab: number;
  dModel: number;
  heads: number;
  /** Rank of the MLA-lite KV latent. */
  kvRank: number;
  seq: number;
  batch: number;
  /** Hidden width of layer 0's SwiGLU MLP. */
  mlpHidden: number;
  experts: number;
  topK: number;
  /** Hidden width of each routed and the shared expert. */
  expertHidden: number;
  learningRate: number;
}

/** The bench config: 2 layers (dense, MoE 4 experts top-2 + 1 shared), 1,024 tokens/step. */
export const TRAIN_BENCH_CONFIG: TrainBenchConfig = {
  vocab: 512,
  dModel: 128,
  heads: 4,
  kvRank: 64,
  seq: 128,
  batch: 8,
  mlpHidden: 384,
  experts: 4,
  topK: 2,
  expertHidden: 192,
  learningRate: 1e-3,
};
