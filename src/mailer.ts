import nodemailer from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** Stable per email key, so a receiving system can drop the rare duplicate after a crash mid-send. */
  messageId: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** Email over SMTP (`SMTP_URL`, e.g. `smtp://127.0.0.1:1025`). */
export function createSmtpMailer(smtpUrl: string, from = 'AI Credits <ai-credits@localhost>'): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(mail) {
      await transport.sendMail({
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
      });
    },
    close() {
      transport.close();
    },
  };
}
