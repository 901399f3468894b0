import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BindToolsInput } from '@langchain/core/language_models/chat_models';
import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';

/**
 * An offline chat model for the LangChain tests: answers each call with the next scripted
 * message, and records what it was sent and which tool definitions were bound to it.
 * (`FakeStreamingChatModel` repeats the same tool calls on every turn, so it cannot end a loop.)
 */
export class ScriptedChatModel extends BaseChatModel {
  readonly calls: BaseMessage[][] = [];
  boundTools: ReturnType<typeof convertToOpenAITool>[] = [];

  constructor(private readonly script: AIMessage[]) {
    super({});
  }

  _llmType(): string {
    return 'scripted';
  }

  override bindTools(tools: BindToolsInput[]): this {
    this.boundTools = tools.map((t) => convertToOpenAITool(t));
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.calls.push([...messages]);
    const message = this.script[this.calls.length - 1];
    if (!message) throw new Error(`the script has no answer for call ${this.calls.length}`);
    return { generations: [{ message, text: typeof message.content === 'string' ? message.content : '' }] };
  }
}
