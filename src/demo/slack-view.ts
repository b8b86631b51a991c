/** How a Slack message looks, in one or two terminal lines: its text and any buttons. */
export function slackLine(message: {
  readonly text: string;
  readonly blocks?: readonly unknown[] | undefined;
}): string {
  const buttons = [
    ...JSON.stringify(message.blocks ?? []).matchAll(
      /"type":"button"[^}]*?"text":\{"type":"plain_text","text":"([^"]+)"/g,
    ),
  ]
    .map((match) => `[${match[1] ?? ''}]`)
    .join(' ');
  return buttons ? `${message.text}  ${buttons}` : message.text;
}
