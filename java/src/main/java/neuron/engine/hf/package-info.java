/**
 * The Hugging Face side of a model: {@code model.safetensors} (written streamed, read from a mapping) and
 * {@code config.json}. Knows file formats only, neither LibTorch nor what a LLaMA is.
 */
package neuron.engine.hf;
